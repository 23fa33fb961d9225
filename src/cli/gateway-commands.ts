import { loadConfig } from '../config.ts';
import { DEFAULT_TIMEOUT_MS, type GatewayPlan, readSubgraphs } from '../gateway/subgraphs.ts';
import { untilStopped } from './signals.ts';
import { EXIT_OK, EXIT_USAGE, type Out, parseFlags, printed } from './usage.ts';

// `masthead gateway` and `masthead compose`: Masthead with other Federation 2 subgraphs. They load
// Apollo's composition and Hive Gateway's runtime only when they run, like the other commands load
// theirs, so that `masthead serve` neither starts slower nor holds more memory for them.

const SUBGRAPH_OPTIONS = `Options:
  --subgraph NAME=URL   a subgraph to compose, by name and GraphQL endpoint; repeat for each
  --source NAME=openapi:FILE_OR_URL, --source NAME=graphql:URL
                        a source that is not a subgraph: a REST service by its OpenAPI
                        document, or a GraphQL endpoint without Federation; repeat for each
  --joins FILE          SDL extending the composed types with fields a source resolves
                        (GraphQL Mesh's @resolveTo); see docs/federation.md
  --config FILE         JSON: {"timeoutMs": MS, "subgraphs": [{"name": …, "url": …,
                        "timeoutMs": MS, "schema": "FILE"}], "sources": [{"name": …,
                        "kind": "openapi"|"graphql", "location": …, "endpoint": URL,
                        "timeoutMs": MS}], "joins": "FILE"}; all but names and URLs optional
  --timeout-ms MS       how long a subgraph may take to answer (default ${DEFAULT_TIMEOUT_MS})`;

export const GATEWAY_USAGE = `Usage: masthead gateway --subgraph NAME=URL... [--config FILE] [--timeout-ms MS]

Composes Masthead with other Apollo Federation 2 subgraphs and serves the supergraph on
http://HOST:PORT/graphql (PORT and HOST as for serve), with GraphiQL, /healthz, and /readyz
(503 naming every subgraph that does not answer). Each subgraph's SDL comes from its
_service { sdl } at start. When a subgraph is down or slower than its timeout, answers keep
the other subgraphs' data and carry an error with code SUBGRAPH_UNAVAILABLE or
SUBGRAPH_TIMEOUT for the missing part. Stops cleanly on SIGTERM or SIGINT.

${SUBGRAPH_OPTIONS}

Exit status: 2 when the subgraphs do not compose (each error on its own line) or the
options are wrong; 1 when a subgraph cannot be reached at start.`;

export const COMPOSE_USAGE = `Usage: masthead compose --subgraph NAME=URL... [--config FILE] [--timeout-ms MS]

Prints the supergraph SDL composed from the subgraphs (Apollo Federation 2 composition) on
stdout, for a router that loads a supergraph file: Apollo Router, Hive Gateway.

${SUBGRAPH_OPTIONS}

Exit status: 2 when the subgraphs do not compose (each error on its own line) or the
options are wrong; 1 when a subgraph cannot be reached.`;

function subgraphsFrom(args: string[]): { help: boolean; subgraphs: () => GatewayPlan } {
  const { values } = parseFlags(args, {
    subgraph: { type: 'string', multiple: true },
    source: { type: 'string', multiple: true },
    joins: { type: 'string' },
    config: { type: 'string' },
    'timeout-ms': { type: 'string' },
  });
  return {
    help: values.help === true,
    subgraphs: () =>
      readSubgraphs({ subgraph: values.subgraph, source: values.source, joins: values.joins, config: values.config, timeoutMs: values['timeout-ms'] }),
  };
}

/** Composes, or prints why not: composition errors are the user's to fix, so exit 2. */
async function composed<T>(command: string, io: Out, work: () => Promise<T>): Promise<{ value: T } | { status: number }> {
  const { CompositionError } = await import('../gateway/compose.ts');
  try {
    return { value: await work() };
  } catch (error) {
    if (!(error instanceof CompositionError)) throw error;
    io.err(`masthead ${command}: ${error.message}:\n${error.errors.join('\n')}`);
    return { status: EXIT_USAGE };
  }
}

export async function gateway(args: string[], io: Out): Promise<number> {
  const { help, subgraphs } = subgraphsFrom(args);
  if (help) return printed(io, GATEWAY_USAGE);
  const { port, host, log, gateway: options } = loadConfig();
  const chosen = subgraphs();
  const [{ createLogger }, { startGateway }] = await Promise.all([import('../logger.ts'), import('../gateway/server.ts')]);
  const logger = createLogger(log);
  const started = await composed('gateway', io, () => startGateway(chosen, { port, host }, { ...options, debug: log.level === 'debug' }, logger));
  if ('status' in started) return started.status;
  await untilStopped(logger);
  await started.value.close();
  logger.flush();
  return EXIT_OK;
}

export async function compose(args: string[], io: Out): Promise<number> {
  const { help, subgraphs } = subgraphsFrom(args);
  if (help) return printed(io, COMPOSE_USAGE);
  const chosen = subgraphs();
  const { composeSupergraph } = await import('../gateway/compose.ts');
  const result = await composed('compose', io, () => composeSupergraph(chosen));
  if ('status' in result) return result.status;
  io.out(result.value);
  return EXIT_OK;
}
