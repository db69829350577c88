/** `geoloc serve`: the gateway on its own — map page, tiles, metrics, WebSocket fan-out. */
import { parseArgs } from 'node:util';
import type { Command } from '../../pipeline/commands/command';
import { GeolocError } from '../../pipeline/core/errors';
import { GATEWAY_ARGS_USAGE, GATEWAY_ARG_OPTIONS, SERVE_DEFAULT_PORT, gatewayOptionsFromArgs, untilSignal } from '../args';
import { createGateway } from '../server';
import { stderrLogger } from '../../pipeline/core/log';
import { followNats } from '../natsFollow';

const USAGE = `usage: geoloc serve [--port <n>] [--index <dir> | --imagery <image>] [options]

Serves the ground map: the map page at /, satellite tiles cut from the imagery, the flight
list, /healthz, /metrics, and WebSocket fixes at /ws (see gateway/PROTOCOL.md). Fixes come
from \`geoloc run --serve\` / \`geoloc replay --serve\`, which start this same gateway in their
own process, or, with --nats, from every worker through NATS JetStream (docs/scale-out.md).
Stops on Ctrl-C.

  --port <n>               TCP port for HTTP and WebSocket (default ${SERVE_DEFAULT_PORT}; 0 picks a free one)
  --index <dir>            satellite index whose manifest names the imagery to draw
  --imagery <path>         or the georeferenced imagery itself (PNG/JPG + world file, GeoTIFF, tile folder)
  --nats <url>             serve every flight from NATS JetStream (nats://host:4222); serves at once and
                           connects in the background, retrying until NATS answers
${GATEWAY_ARGS_USAGE}`;

export const serveCommand: Command = {
  name: ['serve'],
  summary: 'serve the ground map and live fixes over HTTP and WebSocket',
  usage: USAGE,
  async run(argv) {
    let values;
    try {
      ({ values } = parseArgs({
        args: argv,
        options: { ...GATEWAY_ARG_OPTIONS, port: { type: 'string' }, index: { type: 'string' }, imagery: { type: 'string' }, nats: { type: 'string' } },
        strict: true,
        allowPositionals: false,
      }));
    } catch (err) {
      throw new GeolocError('GEOLOC_ERR_USAGE', `${(err as Error).message}\n\n${USAGE}`);
    }
    if (values.index !== undefined && values.imagery !== undefined) {
      throw new GeolocError('GEOLOC_ERR_USAGE', `give --index or --imagery, not both\n\n${USAGE}`);
    }
    const port = values.port === undefined ? SERVE_DEFAULT_PORT : Number(values.port);
    if (!Number.isInteger(port)) throw new GeolocError('GEOLOC_ERR_USAGE', `--port must be a whole number, got ${JSON.stringify(values.port)}`);
    const imagery = values.index !== undefined ? { index: values.index } : values.imagery !== undefined ? { imagery: values.imagery } : undefined;
    const gateway = await createGateway({ ...gatewayOptionsFromArgs(values), port, imagery });
    process.stderr.write(`geoloc serve: map at ${gateway.url}/ · fixes at ${gateway.wsUrl} · metrics at ${gateway.url}/metrics (Ctrl-C stops)\n`);
    const nats = values.nats === undefined ? undefined : followNats(gateway, values.nats, stderrLogger());
    const signal = await untilSignal();
    process.stderr.write(`geoloc serve: ${signal}, closing\n`);
    await Promise.all([nats?.close(), gateway.close()]);
    return 0;
  },
};
