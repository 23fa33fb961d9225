import { listen } from '../http/listener/listen.ts';
import type { Logger } from '../logger.ts';
import { composeSupergraph } from './compose.ts';
import { createGatewayYoga } from './gateway-yoga.ts';
import type { Subgraph } from './subgraphs.ts';

export interface RunningGateway {
  url: string;
  close(): Promise<void>;
}

/** Composes the subgraphs into a supergraph and serves it on HOST:PORT. */
export async function startGateway(subgraphs: readonly Subgraph[], at: { port: number; host: string }, logger: Logger): Promise<RunningGateway> {
  const supergraphSdl = await composeSupergraph(subgraphs);
  const { yoga, stop } = await createGatewayYoga(supergraphSdl, subgraphs, logger);
  const listening = await listen(yoga, at.port, at.host).catch(async (error: unknown) => {
    await stop();
    throw error;
  });
  const names = subgraphs.map((subgraph) => subgraph.name).join(', ');
  logger.info(`Masthead gateway serves ${listening.url}/graphql, composed from ${names}`);
  return {
    url: listening.url,
    close: async () => {
      await listening.close();
      await stop();
    },
  };
}
