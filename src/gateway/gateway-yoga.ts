import { createGatewayRuntime, type GatewayPlugin, type GatewayRuntime } from '@graphql-hive/gateway-runtime';
import { type LogLevel as HiveLogLevel, Logger as HiveLogger } from '@graphql-hive/logger';
import httpTransport from '@graphql-mesh/transport-http';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { GraphQLError } from 'graphql';
import { maskError } from 'graphql-yoga';
import { useClientErrorStatus } from '../http/plugins/client-error-status.ts';
import { jsonResponse, useGetEndpoints } from '../http/plugins/operational-endpoints.ts';
import type { Logger } from '../logger.ts';
import { askSubgraph, SubgraphFailure } from './subgraph-client.ts';
import type { Subgraph } from './subgraphs.ts';

const READY_TIMEOUT_MS = 2000;

/** How the gateway runs beside its subgraphs. */
export interface GatewayOptions {
  /** Client request headers sent on to every subgraph, lower-case. @default ['authorization', 'x-request-id'] */
  forwardHeaders: readonly string[];
  /** How often the supergraph is composed again from the subgraphs (or their schema files); 0 for never. @default 30000 */
  pollIntervalMs: number;
}

/** Where the supergraph SDL comes from: the one composed at start, then each re-composition. */
export type SupergraphSource = () => Promise<string>;

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

/** Hive's logger, writing through Masthead's (so the gateway's lines look like every other command's). */
function hiveLogger(logger: Logger): HiveLogger {
  const levels: Record<HiveLogLevel, (...args: unknown[]) => void> = {
    trace: logger.debug,
    debug: logger.debug,
    // The runtime announces every schema it loads and every plugin it sets up at info; that is our start line's job.
    info: logger.debug,
    warn: logger.warn,
    error: logger.error,
  };
  return new HiveLogger({
    level: 'debug',
    writers: [
      {
        write(level, attrs, msg) {
          const write = levels[level];
          if (attrs && Object.keys(attrs).length > 0) write(msg ?? '', attrs);
          else write(msg ?? '');
        },
      },
    ],
  });
}

/**
 * A subgraph that gives no GraphQL answer in time (down, too slow, answering something else) must
 * not fail the whole request: its fetch answers, in its place, a GraphQL error with code
 * SUBGRAPH_UNAVAILABLE or SUBGRAPH_TIMEOUT, and the runtime goes on with what the others gave.
 * The per-subgraph timeout is applied here too, on the same fetch, so that the message can say
 * which subgraph and how long it was given.
 */
function useSubgraphFailures(subgraphs: readonly Subgraph[]): GatewayPlugin {
  const byUrl = new Map(subgraphs.map((subgraph) => [subgraph.url, subgraph]));
  return {
    onFetch({ url, options, setOptions, fetchFn, setFetchFn }) {
      const subgraph = byUrl.get(url);
      if (!subgraph) return;
      const timeout = AbortSignal.timeout(subgraph.timeoutMs);
      setOptions({ ...options, signal: options.signal ? AbortSignal.any([options.signal, timeout]) : timeout });
      setFetchFn(async (input, init, ...rest) => {
        const where = `the "${subgraph.name}" subgraph at ${subgraph.url}`;
        let failure: SubgraphFailure;
        try {
          const response = await fetchFn(input, init, ...rest);
          const type = response.headers.get('content-type') ?? '';
          if (/json|event-stream|multipart/.test(type)) return response;
          await response.body?.cancel();
          failure = new SubgraphFailure(subgraph.name, 'SUBGRAPH_UNAVAILABLE', `${where} answered HTTP ${response.status} without a GraphQL result`);
        } catch (error) {
          if (timeout.aborted) {
            failure = new SubgraphFailure(subgraph.name, 'SUBGRAPH_TIMEOUT', `${where} did not answer within ${subgraph.timeoutMs} ms`);
          } else if (init?.signal?.aborted) {
            throw error;
          } else {
            failure = new SubgraphFailure(subgraph.name, 'SUBGRAPH_UNAVAILABLE', `${where} is unreachable: ${reasonOf(error)}`);
          }
        }
        const body = { errors: [{ message: `${failure.message}, so what it serves is missing from this answer`, extensions: { code: failure.code } }] };
        return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
      });
    },
  };
}

/** Why a fetch failed, in the words of the socket where there are some (`connect ECONNREFUSED …`). */
function reasonOf(error: unknown): string {
  const cause = error instanceof Error ? error.cause : undefined;
  if (cause instanceof Error && cause.message) return cause.message;
  return error instanceof Error ? error.message : String(error);
}

export interface GatewayYoga {
  yoga: GatewayRuntime;
  stop(): Promise<void>;
}

/**
 * The supergraph server on Hive Gateway's runtime, apart from any listener: GraphQL on /graphql
 * (queries, mutations, and subscriptions over SSE), /healthz and /readyz. The supergraph comes
 * from `supergraph`, asked again every `pollIntervalMs`; a new SDL replaces the old without a restart.
 */
export async function createGatewayYoga(
  supergraph: SupergraphSource,
  subgraphs: readonly Subgraph[],
  options: GatewayOptions,
  logger: Logger,
): Promise<GatewayYoga> {
  const forwarded = options.forwardHeaders.map((name) => name.toLowerCase());
  const runtime = createGatewayRuntime({
    supergraph,
    ...(options.pollIntervalMs > 0 ? { pollingInterval: options.pollIntervalMs } : {}),
    transports: { http: httpTransport },
    logging: hiveLogger(logger),
    graphqlEndpoint: '/graphql',
    landingPage: false,
    graphiql: { title: 'Masthead gateway' },
    renderGraphiQL,
    // Hive's own /healthcheck and /readiness stay; /healthz and /readyz below are Masthead's.
    propagateHeaders: {
      fromClientToSubgraphs: ({ request }) => {
        const headers: Record<string, string> = {};
        for (const name of forwarded) {
          const value = request.headers.get(name);
          if (value !== null) headers[name] = value;
        }
        return headers;
      },
    },
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
    plugins: () => [
      useSubgraphFailures(subgraphs),
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
  // Load the supergraph now, so that a supergraph the runtime cannot use fails the start, not the first request.
  await runtime.getSchema();
  return { yoga: runtime, stop: () => runtime.dispose() as Promise<void> };
}
