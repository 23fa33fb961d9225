import { listen } from '../http/listener/listen.ts';
import type { Logger } from '../logger.ts';
import { composeSupergraph } from './compose.ts';
import { createGatewayYoga, type GatewayOptions, type Upstream } from './gateway-yoga.ts';
import type { GatewayPlan } from './subgraphs.ts';

export interface RunningGateway {
  url: string;
  close(): Promise<void>;
}

/**
 * The supergraph as the runtime asks for it: the one composed at start first, then a fresh
 * composition at each poll. A poll that cannot compose (a subgraph down, a change that breaks
 * composition) keeps the supergraph in service and says why in the log, once per new reason.
 */
function recomposing(initial: string, plan: GatewayPlan, logger: Logger): () => Promise<string> {
  let current = initial;
  let first = true;
  let lastProblem: string | null = null;
  return async () => {
    if (first) {
      first = false;
      return current;
    }
    try {
      const next = await composeSupergraph(plan);
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
export async function startGateway(plan: GatewayPlan, at: { port: number; host: string }, options: GatewayOptions, logger: Logger): Promise<RunningGateway> {
  const supergraphSdl = await composeSupergraph(plan);
  const upstreams: Upstream[] = plan.subgraphs.map(({ name, url, timeoutMs }) => ({ name, kind: 'graphql', url, timeoutMs }));
  if (plan.sources.length > 0) {
    // A REST source is called where its OpenAPI document (or its endpoint setting) says, as composed.
    const { transportsOf } = await import('./compose-mesh.ts');
    const transports = transportsOf(supergraphSdl);
    for (const source of plan.sources) {
      const url = source.kind === 'graphql' ? source.location : (source.endpoint ?? transports.get(source.name)?.location);
      if (url) upstreams.push({ name: source.name, kind: source.kind === 'graphql' ? 'graphql' : 'rest', url, timeoutMs: source.timeoutMs });
    }
  }
  // Hive Router's planner reads Federation supergraphs only: a REST or plain GraphQL source is planned by the JS one.
  const queryPlanner = plan.sources.length > 0 ? 'js' : options.queryPlanner;
  const { yoga, stop } = await createGatewayYoga(recomposing(supergraphSdl, plan, logger), upstreams, { ...options, queryPlanner }, logger);
  const listening = await listen(yoga, at.port, at.host).catch(async (error: unknown) => {
    await stop();
    throw error;
  });
  const names = [...plan.subgraphs, ...plan.sources].map((part) => part.name).join(', ');
  logger.info(`Masthead gateway serves ${listening.url}/graphql, composed from ${names}`);
  return {
    url: listening.url,
    close: async () => {
      await listening.close();
      await stop();
    },
  };
}
