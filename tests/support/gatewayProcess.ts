/** A gateway in a child process of its own (see childRole.ts), for tests that load it with hundreds of sockets. */
import { forkRole, runRole } from './childRole';
import type { GatewayOptions } from '../../gateway/options';
import { createGateway } from '../../gateway/server';

export interface GatewayProcess {
  port: number;
  url: string;
  wsUrl: string;
  stop(): Promise<void>;
}

/** Options cross the process boundary as JSON, so `log` stays the child's default. */
export async function startGatewayProcess(options: Omit<GatewayOptions, 'log'>): Promise<GatewayProcess> {
  const role = await forkRole<{ port: number; url: string; wsUrl: string }, null>(__filename, options);
  return { ...role.ready, stop: async () => void (await role.stop()) };
}

if (require.main === module) {
  runRole(async (options: GatewayOptions) => {
    const gateway = await createGateway(options);
    return { ready: { port: gateway.port, url: gateway.url, wsUrl: gateway.wsUrl }, stop: () => gateway.close().then(() => null) };
  });
}
