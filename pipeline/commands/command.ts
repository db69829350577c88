/** A `geoloc` subcommand. Register one in ./index.ts only once it works. */
export interface Command {
  /** words after `geoloc`, e.g. ['index', 'build'] */
  name: string[];
  summary: string;
  usage: string;
  /** true when the command answers --help itself (the Python hand-overs) */
  passHelpThrough?: boolean;
  /** true for a long job of native threads, run in a process with bounded malloc (core/boundedMalloc.ts) */
  boundedMalloc?: boolean;
  /** resolves to the process exit code */
  run(argv: string[]): Promise<number>;
}
