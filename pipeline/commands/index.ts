import type { Command } from './command';
import { indexAddCommand, indexBuildCommand, indexInfoCommand } from '../../models/commands/indexBuild';
import { locateCommand } from '../../models/commands/locate';
import { explainCommand } from './explain';
import { evaluateCommand, exportCommand, trainCommand } from './training';
import { serveCommand } from '../../gateway/commands/serve';
import { datasetsCommand } from '../../fixtures/commands/datasets';
import { renderCommand } from '../../fixtures/commands/render';
import { worldCommand } from '../../fixtures/commands/world';
import { runCommand } from './run';
import { replayCommand } from './replay';
import { demoCommand } from './demo';
import { workerCommand } from './worker';
import { flightsAddCommand, flightsListCommand, flightsRemoveCommand, flightsStatusCommand, flightsStopCommand } from './flights';

/** Every working subcommand, in the order `geoloc --help` lists them. */
export const COMMANDS: Command[] = [
  runCommand,
  replayCommand,
  demoCommand,
  trainCommand,
  evaluateCommand,
  exportCommand,
  indexBuildCommand,
  indexAddCommand,
  indexInfoCommand,
  locateCommand,
  explainCommand,
  serveCommand,
  workerCommand,
  flightsAddCommand,
  flightsListCommand,
  flightsStatusCommand,
  flightsStopCommand,
  flightsRemoveCommand,
  worldCommand,
  renderCommand,
  datasetsCommand,
];
