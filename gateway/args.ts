/**
 * Command-line plumbing shared by `geoloc serve` and the `--serve` flag of `run` and
 * `replay`: the gateway's options as parseArgs definitions, their conversion to
 * GatewayOptions, and waiting for Ctrl-C.
 */
import { integerOption } from '../pipeline/core/options';
import { GATEWAY_DEFAULTS, type GatewayOptions } from './options';

/** The port `geoloc serve` and a bare `--serve` listen on. */
export const SERVE_DEFAULT_PORT = 8080;
/** A token may come from the environment, so it stays out of `ps` listings and shell history. */
export const TOKEN_ENV = 'GEOLOC_GATEWAY_TOKEN';

/** parseArgs definitions of the gateway's options (all strings; converted by gatewayOptionsFromArgs). */
export const GATEWAY_ARG_OPTIONS = {
  host: { type: 'string' },
  token: { type: 'string' },
  'public-url': { type: 'string' },
  'allowed-hosts': { type: 'string' },
  origins: { type: 'string' },
  'max-clients': { type: 'string' },
  'max-connections-per-address': { type: 'string' },
  'heartbeat-ms': { type: 'string' },
  'high-water-mark': { type: 'string' },
  'hard-limit': { type: 'string' },
  'snapshot-size': { type: 'string' },
  'evidence-size': { type: 'string' },
} as const;

export const GATEWAY_ARGS_USAGE = `  --host <addr>            interface to listen on (default ${GATEWAY_DEFAULTS.host}; 0.0.0.0 for every one)
  --token <secret>         require "Authorization: Bearer <secret>" or ?token=<secret> (or set ${TOKEN_ENV})
  --public-url <url>       the URL browsers use when it is not http://<host>:<port> (a DNS name, a proxy)
  --allowed-hosts <a,b>    more Host names to answer to (default: the listen host, the public URL's,
                           localhost on loopback; * for any, which drops the DNS-rebinding guard)
  --origins <a,b>          browser origins allowed to connect (default: those of the allowed hosts; * for any)
  --max-clients <n>        WebSocket clients at once (default ${GATEWAY_DEFAULTS.maxClients})
  --max-connections-per-address <n>
                           connections one client address may hold (default ${GATEWAY_DEFAULTS.maxConnectionsPerAddress})
  --heartbeat-ms <ms>      ping interval; a client missing a pong is dropped (default ${GATEWAY_DEFAULTS.heartbeatIntervalMs})
  --high-water-mark <B>    queued bytes past which a client skips to the latest fix (default ${GATEWAY_DEFAULTS.highWaterMark})
  --hard-limit <B>         queued bytes past which a client is closed (default ${GATEWAY_DEFAULTS.hardLimit})
  --snapshot-size <n>      fixes per flight a new subscriber gets at once (default ${GATEWAY_DEFAULTS.snapshotSize})
  --evidence-size <n>      registered fixes per flight whose matched points are kept (default ${GATEWAY_DEFAULTS.evidenceSize})
`;

export type GatewayArgValues = Partial<Record<keyof typeof GATEWAY_ARG_OPTIONS, string>>;

/** Every number the gateway's flags take is a count, a size or a port: a whole number from 0. */
function integerArg(name: string, text: string | undefined): number | undefined {
  return integerOption(name, text, undefined, undefined, 0);
}

/** A comma-separated flag value, blanks dropped. */
function listArg(text: string | undefined): string[] | undefined {
  return text
    ?.split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

/** The gateway options the flags name; unnamed ones keep the gateway's defaults. */
export function gatewayOptionsFromArgs(values: GatewayArgValues, env: NodeJS.ProcessEnv = process.env): GatewayOptions {
  return {
    host: values.host,
    token: values.token ?? env[TOKEN_ENV],
    publicUrl: values['public-url'],
    allowedHosts: listArg(values['allowed-hosts']),
    allowedOrigins: listArg(values.origins),
    maxClients: integerArg('max-clients', values['max-clients']),
    maxConnectionsPerAddress: integerArg('max-connections-per-address', values['max-connections-per-address']),
    heartbeatIntervalMs: integerArg('heartbeat-ms', values['heartbeat-ms']),
    highWaterMark: integerArg('high-water-mark', values['high-water-mark']),
    hardLimit: integerArg('hard-limit', values['hard-limit']),
    snapshotSize: integerArg('snapshot-size', values['snapshot-size']),
    evidenceSize: integerArg('evidence-size', values['evidence-size']),
  };
}

/**
 * Takes `--serve`, `--serve <port>` or `--serve=<port>` out of argv (parseArgs has no
 * optional values). `port` is undefined when the flag is absent.
 */
export function extractServeFlag(argv: string[]): { argv: string[]; port: number | undefined } {
  const rest: string[] = [];
  let port: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--serve') {
      const next = argv[i + 1];
      if (next !== undefined && /^\d+$/.test(next)) {
        port = integerArg('serve', next);
        i++;
      } else {
        port = SERVE_DEFAULT_PORT;
      }
    } else if (arg.startsWith('--serve=')) {
      port = integerArg('serve', arg.slice('--serve='.length));
    } else {
      rest.push(arg);
    }
  }
  return { argv: rest, port };
}

/** Resolves on the first SIGINT or SIGTERM, and stops listening for them. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];
    const handler = (signal: NodeJS.Signals) => {
      for (const s of signals) process.off(s, handler);
      resolve(signal);
    };
    for (const s of signals) process.on(s, handler);
  });
}
