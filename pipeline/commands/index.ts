import type { Command } from './command';

/** Every working subcommand, in the order `geoloc --help` lists them. */
export const COMMANDS: Command[] = [];
