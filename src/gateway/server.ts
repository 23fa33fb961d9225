import { listen } from '../http/listener/listen.ts';
import type { Logger } from '../logger.ts';
import { composeSupergraph } from './compose.ts';
import { createGatewayYoga, type GatewayOptions } from './gateway-yoga.ts';
import type { Subgraph } from './subgraphs.ts';

export interface RunningGateway {
  url: string;
  close(): Promise<void>;
}

/**
 * The supergraph as the runtime asks for it: the one composed at start first, then a fresh
 * composition at each poll. A poll that cannot compose (a subgraph down, a change that breaks
 * composition) keeps the supergraph in service and says why in the log, once per new reason.
 */
function recomposing(initial: string, subgraphs: readonly Subgraph[], logger: Logger): () => Promise<string> {
  let current = initial;
  let first = true;
  let lastProblem: string | null = null;
  return async () => {
    if (first) {
      first = false;
      return current;
    }
    try {
      const next = await composeSupergraph(subgraphs);
      lastProblem = null;
      if (next !== current) logger.info('the subgraphs changed: serving the supergraph composed from them now');
      current = next;
    } catch (error) {
      const problem = error instanceof Error ? `${error.message}${'errors' in error ? `: ${(error.errors as string[]).join('; ')}` : ''}` : String(error);
      if (problem !== lastProblem) logger.warn(`keeping the supergraph in service: ${problem}`);
      lastProblem = problem;
    }
    return current;
  };
}

/** Composes the subgraphs into a supergraph and serves it on HOST:PORT. */
export async function startGateway(
  subgraphs: readonly Subgraph[],
  at: { port: number; host: string },
  options: GatewayOptions,
  logger: Logger,
): Promise<RunningGateway> {
  const supergraphSdl = await composeSupergraph(subgraphs);
  const { yoga, stop } = await createGatewayYoga(recomposing(supergraphSdl, subgraphs, logger), subgraphs, options, logger);
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
