import { createHash } from 'node:crypto';
import { ApolloGateway, type GraphQLDataSource } from '@apollo/gateway';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { getOperationAST, GraphQLError, print } from 'graphql';
import { createYoga, maskError, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import { useClientErrorStatus } from '../http/plugins/client-error-status.ts';
import { jsonResponse, useGetEndpoints } from '../http/plugins/operational-endpoints.ts';
import type { Logger } from '../logger.ts';
import { askSubgraph, SubgraphFailure } from './subgraph-client.ts';
import type { Subgraph } from './subgraphs.ts';
import { codedError } from '../errors/coded-error.ts';

type Executor = Awaited<ReturnType<ApolloGateway['load']>>['executor'];
type RequestContext = Parameters<Executor>[0];

const READY_TIMEOUT_MS = 2000;

/**
 * Calls one subgraph for the query planner. When the subgraph gives no GraphQL answer in time,
 * its part of the answer is an error with code SUBGRAPH_UNAVAILABLE or SUBGRAPH_TIMEOUT (the
 * gateway adds `serviceName`), and the planner goes on with what the other subgraphs gave: the
 * client gets partial data, not a failed request.
 */
class SubgraphDataSource implements GraphQLDataSource {
  constructor(private readonly subgraph: Subgraph) {}

  async process({ request }: Parameters<GraphQLDataSource['process']>[0]) {
    if (!request.query) throw new Error(`no query to send to the "${this.subgraph.name}" subgraph`);
    try {
      return await askSubgraph(this.subgraph, {
        query: request.query,
        variables: request.variables,
        operationName: request.operationName,
      });
    } catch (error) {
      if (!(error instanceof SubgraphFailure)) throw error;
      return { errors: [{ message: `${error.message}, so what it serves is missing from this answer`, extensions: { code: error.code } }] };
    }
  }
}

const NO_CACHE: RequestContext['cache'] = {
  get: async () => undefined,
  set: async () => {},
  delete: async () => true,
};

/** Yoga parses and validates against the supergraph's API schema; Apollo's query planner executes. */
function useQueryPlanner(executor: Executor, logger: Logger): Plugin {
  return {
    onExecute({ setExecuteFn }) {
      setExecuteFn(async (args) => {
        const operation = getOperationAST(args.document, args.operationName);
        if (!operation) return { errors: [codedError('BAD_REQUEST', 'The request names no operation of its document to run.')] };
        const source = print(args.document);
        const requestContext: RequestContext = {
          request: {
            query: source,
            variables: (args.variableValues ?? {}) as Record<string, unknown>,
            operationName: args.operationName ?? undefined,
          },
          document: args.document,
          source,
          queryHash: createHash('sha256').update(source).digest('hex'),
          operation,
          operationName: operation.name?.value ?? null,
          context: {},
          schema: args.schema,
          schemaHash: '' as RequestContext['schemaHash'],
          logger,
          cache: NO_CACHE,
          metrics: {},
          overallCachePolicy: null,
        };
        return executor(requestContext);
      });
    },
  };
}

/** /readyz: 200 when every subgraph gives a GraphQL answer in time; else 503 naming those that do not. */
async function subgraphReadiness(subgraphs: readonly Subgraph[]) {
  const states = await Promise.all(
    subgraphs.map(async (subgraph) => {
      try {
        await askSubgraph(subgraph, { query: '{ __typename }' }, Math.min(subgraph.timeoutMs, READY_TIMEOUT_MS));
        return [subgraph.name, 'ready'] as const;
      } catch (error) {
        return [subgraph.name, error instanceof Error ? error.message : String(error)] as const;
      }
    }),
  );
  const unavailable = states.filter(([, state]) => state !== 'ready').map(([name]) => name);
  return unavailable.length === 0
    ? { status: 200, body: { status: 'ready', subgraphs: Object.fromEntries(states) } }
    : { status: 503, body: { status: 'unavailable', unavailable, subgraphs: Object.fromEntries(states) } };
}

export interface GatewayYoga {
  yoga: YogaServerInstance<Record<string, never>, Record<string, never>>;
  stop(): Promise<void>;
}

/** The supergraph server, apart from any listener: GraphQL on /graphql, /healthz and /readyz. */
export async function createGatewayYoga(supergraphSdl: string, subgraphs: readonly Subgraph[], logger: Logger): Promise<GatewayYoga> {
  const byName = new Map(subgraphs.map((subgraph) => [subgraph.name, subgraph]));
  const gateway = new ApolloGateway({
    supergraphSdl,
    // The gateway announces every schema it loads at info; that is our start line's job.
    logger: { ...logger, info: logger.debug },
    buildService: ({ name }) => {
      const subgraph = byName.get(name);
      if (!subgraph) throw new Error(`the supergraph names a subgraph "${name}" that the gateway was not given`);
      return new SubgraphDataSource(subgraph);
    },
  });
  const { schema, executor } = await gateway.load();
  const yoga = createYoga<Record<string, never>>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    logging: logger,
    graphiql: { title: 'Masthead gateway' },
    renderGraphiQL,
    maskedErrors: {
      maskError(error, message) {
        // A subgraph's errors pass as it gave them (each subgraph masks its own internals), with
        // the subgraph's name in extensions.serviceName; the gateway's own failures are masked.
        if (error instanceof GraphQLError && typeof error.extensions?.serviceName === 'string') return error;
        const masked = maskError(error, message, false);
        if (masked !== error) logger.error('internal error in the gateway:', (error as { originalError?: unknown }).originalError ?? error);
        return masked;
      },
    },
    plugins: [
      useQueryPlanner(executor, logger),
      useGetEndpoints({
        '/healthz': (fetchAPI) => jsonResponse(fetchAPI, 200, { status: 'ok' }),
        '/readyz': async (fetchAPI) => {
          const { status, body } = await subgraphReadiness(subgraphs);
          return jsonResponse(fetchAPI, status, body);
        },
      }),
      useClientErrorStatus(),
    ],
  });
  return { yoga, stop: () => gateway.stop() };
}
