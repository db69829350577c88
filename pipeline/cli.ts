#!/usr/bin/env node
import { COMMANDS } from './commands';
import type { Command } from './commands/command';
import { describeError } from './errors';

function helpText(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.join(' ').length), 4);
  const lines = COMMANDS.map((c) => `  ${c.name.join(' ').padEnd(width)}  ${c.summary}`);
  return ['usage: geoloc <command> [options]', '', 'commands:', ...lines, '', 'geoloc <command> --help shows the options of one command.'].join('\n');
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

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`geoloc: ${describeError(err)}\n`);
      process.exitCode = 1;
    },
  );
}
