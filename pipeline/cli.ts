#!/usr/bin/env node
import { COMMANDS } from './commands';
import type { Command } from './commands/command';
import { describeError } from './core/errors';
import { boundedMallocEnv } from './core/boundedMalloc';
import { handOverTo } from './core/handOver';

function commandList(commands: readonly Command[]): string[] {
  const width = Math.max(...commands.map((c) => c.name.join(' ').length), 4);
  return commands.map((c) => `  ${c.name.join(' ').padEnd(width)}  ${c.summary}`);
}

function helpText(): string {
  return ['usage: geoloc <command> [options]', '', 'commands:', ...commandList(COMMANDS), '', 'geoloc <command> --help shows the options of one command.'].join('\n');
}

/** The commands a group's first word leads to (`index` → `index build`, `index info`). */
function groupOf(word: string | undefined): Command[] {
  return COMMANDS.filter((c) => c.name.length > 1 && c.name[0] === word);
}

/** The longest registered command whose words begin argv. */
function findCommand(argv: string[]): Command | undefined {
  return COMMANDS.filter((c) => c.name.every((word, i) => argv[i] === word)).sort((a, b) => b.name.length - a.name.length)[0];
}

export async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    process.stdout.write(helpText() + '\n');
    return argv.length === 0 ? 1 : 0;
  }
  const command = findCommand(argv);
  const group = groupOf(argv[0]);
  if (!command && group.length > 0) {
    const help = argv.length === 2 && (argv[1] === '--help' || argv[1] === '-h');
    const text = [`usage: geoloc ${argv[0]} <${group.map((c) => c.name[1]).join('|')}> [options]`, '', ...commandList(group), '', `geoloc ${argv[0]} <command> --help shows the options of one.`].join('\n');
    if (help) process.stdout.write(`${text}\n`);
    else process.stderr.write(`geoloc: '${argv.join(' ')}' needs one of its commands\n\n${text}\n`);
    return help ? 0 : 2;
  }
  if (!command) {
    process.stderr.write(`geoloc: unknown command '${argv.join(' ')}'\n\n${helpText()}\n`);
    return 2;
  }
  const rest = argv.slice(command.name.length);
  if (!command.passHelpThrough && (rest.includes('--help') || rest.includes('-h'))) {
    process.stdout.write(command.usage.trimEnd() + '\n');
    return 0;
  }
  return command.run(rest);
}

/** How the entry process runs argv: itself, or again with bounded malloc when the command needs it and it is not set. */
function runEntry(argv: string[]): Promise<number> {
  const malloc = findCommand(argv)?.boundedMalloc ? boundedMallocEnv() : {};
  if (Object.keys(malloc).length === 0) return main(argv);
  return handOverTo(process.execPath, [...process.execArgv, __filename, ...argv], { env: { ...process.env, ...malloc } });
}

if (require.main === module) {
  runEntry(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`geoloc: ${describeError(err)}\n`);
      process.exitCode = 1;
    },
  );
}
