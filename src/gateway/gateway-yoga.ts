import { createGatewayRuntime, type GatewayPlugin, type GatewayRuntime } from '@graphql-hive/gateway-runtime';
import { type LogLevel as HiveLogLevel, Logger as HiveLogger } from '@graphql-hive/logger';
import httpTransport from '@graphql-mesh/transport-http';
import restTransport from '@graphql-mesh/transport-rest';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { BREAK, GraphQLError, Kind, parse, visit } from 'graphql';
import { maskError } from 'graphql-yoga';
import { useClientErrorStatus } from '../http/plugins/client-error-status.ts';
import { jsonResponse, useGetEndpoints } from '../http/plugins/operational-endpoints.ts';
import type { Logger } from '../logger.ts';
import { askSubgraph, SubgraphFailure } from './subgraph-client.ts';

const READY_TIMEOUT_MS = 2000;

/** How the gateway runs beside its subgraphs. */
export interface GatewayOptions {
  /** Client request headers sent on to every subgraph, lower-case. @default ['authorization', 'x-request-id'] */
  forwardHeaders: readonly string[];
  /** How often the supergraph is composed again from the subgraphs (or their schema files); 0 for never. @default 30000 */
  pollIntervalMs: number;
  /** Whether the runtime's own debug lines are logged (LOG_LEVEL=debug). @default false */
  debug?: boolean;
  /**
   * Which query planner: Hive Router's (native code) or the runtime's JS one. Router only for a
   * supergraph of Federation subgraphs: REST and plain GraphQL sources need the JS planner. @default 'router'
   */
  queryPlanner: 'router' | 'js';
}

/** A service the gateway calls: a subgraph or a GraphQL source (one URL), or a REST source (URLs under its base). */
export interface Upstream {
  name: string;
  kind: 'graphql' | 'rest';
  url: string;
  timeoutMs: number;
}

/** Where the supergraph SDL comes from: the one composed at start, then each re-composition. */
export type SupergraphSource = () => Promise<string>;

/** /readyz: 200 when every upstream answers in time (a GraphQL answer, or any HTTP answer from a REST source); else 503 naming those that do not. */
async function upstreamReadiness(upstreams: readonly Upstream[]) {
  const states = await Promise.all(
    upstreams.map(async (upstream) => {
      const timeoutMs = Math.min(upstream.timeoutMs, READY_TIMEOUT_MS);
      try {
        if (upstream.kind === 'graphql') {
          await askSubgraph({ ...upstream, schemaFile: null }, { query: '{ __typename }' }, timeoutMs);
        } else {
          const response = await fetch(upstream.url, { signal: AbortSignal.timeout(timeoutMs) });
          await response.body?.cancel();
        }
        return [upstream.name, 'ready'] as const;
      } catch (error) {
        if (upstream.kind === 'rest') {
          const reason =
            error instanceof Error && error.name === 'TimeoutError' ? `did not answer within ${timeoutMs} ms` : `is unreachable: ${reasonOf(error)}`;
          return [upstream.name, `the "${upstream.name}" source at ${upstream.url} ${reason}`] as const;
        }
        return [upstream.name, error instanceof Error ? error.message : String(error)] as const;
      }
    }),
  );
  const unavailable = states.filter(([, state]) => state !== 'ready').map(([name]) => name);
  return unavailable.length === 0
    ? { status: 200, body: { status: 'ready', subgraphs: Object.fromEntries(states) } }
    : { status: 503, body: { status: 'unavailable', unavailable, subgraphs: Object.fromEntries(states) } };
}

/** Hive's logger, writing through Masthead's (so the gateway's lines look like every other command's). */
function hiveLogger(logger: Logger, debug: boolean): HiveLogger {
  const levels: Record<HiveLogLevel, (...args: unknown[]) => void> = {
    trace: logger.debug,
    debug: logger.debug,
    // The runtime announces every schema it loads and every plugin it sets up at info; that is our start line's job.
    info: logger.debug,
    warn: logger.warn,
    error: logger.error,
  };
  return new HiveLogger({
    // The runtime logs at debug several times a request, with attributes built for each line:
    // at any other level those lines are not even made.
    level: debug ? 'debug' : 'warn',
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

/** Statuses whose Response may have no body. */
const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);

/**
 * A subgraph that gives no GraphQL answer in time (down, too slow, answering something else) must
 * not fail the whole request: its fetch answers, in its place, a GraphQL error with code
 * SUBGRAPH_UNAVAILABLE or SUBGRAPH_TIMEOUT, and the runtime goes on with what the others gave.
 * The per-subgraph timeout is applied here too, on the same fetch, so that the message can say
 * which subgraph and how long it was given.
 */
function useSubgraphFailures(upstreams: readonly Upstream[], errorPerEntity: boolean): GatewayPlugin {
  const find = (url: string) => upstreams.find((upstream) => (upstream.kind === 'rest' ? url.startsWith(upstream.url) : url === upstream.url));
  return {
    onFetch({ url, options, setOptions, fetchFn, setFetchFn }) {
      const upstream = find(url);
      if (!upstream) return;
      // A subscription's stream lives as long as the client wants it: its timeout ends when the
      // subgraph answers (with the stream's headers). Any other request's covers its whole answer,
      // and ends as soon as that has arrived, rather than being left to fire.
      const stream = /text\/event-stream/.test(new Headers(options.headers as HeadersInit | undefined).get('accept') ?? '');
      const deadline = new AbortController();
      const timeout = deadline.signal;
      const timer = setTimeout(() => deadline.abort(new DOMException('timed out', 'TimeoutError')), upstream.timeoutMs);
      timer.unref();
      setOptions({ ...options, signal: options.signal ? AbortSignal.any([options.signal, timeout]) : timeout });
      setFetchFn(async (input, init, ...rest) => {
        const where = `the "${upstream.name}" ${upstream.kind === 'rest' ? 'source' : 'subgraph'} at ${upstream.url}`;
        let failure: SubgraphFailure;
        try {
          const response = await fetchFn(input, init, ...rest);
          if (stream) clearTimeout(timer);
          const type = response.headers.get('content-type') ?? '';
          if (upstream.kind === 'rest' || /json|event-stream|multipart/.test(type)) {
            // An answer in parts (a stream, incremental delivery) is read by the runtime as it comes.
            if (stream || /event-stream|multipart/.test(type)) return response;
            const body = await response.arrayBuffer();
            clearTimeout(timer);
            return new Response(NULL_BODY_STATUS.has(response.status) ? null : body, {
              status: response.status,
              statusText: response.statusText,
              headers: response.headers,
            });
          }
          clearTimeout(timer);
          await response.body?.cancel();
          failure = new SubgraphFailure(upstream.name, 'SUBGRAPH_UNAVAILABLE', `${where} answered HTTP ${response.status} without a GraphQL result`);
        } catch (error) {
          clearTimeout(timer);
          if (timeout.aborted) {
            failure = new SubgraphFailure(upstream.name, 'SUBGRAPH_TIMEOUT', `${where} did not answer within ${upstream.timeoutMs} ms`);
          } else if (init?.signal?.aborted) {
            throw error;
          } else {
            failure = new SubgraphFailure(upstream.name, 'SUBGRAPH_UNAVAILABLE', `${where} is unreachable: ${reasonOf(error)}`);
          }
        }
        const message = `${failure.message}, so what it serves is missing from this answer`;
        // A REST source's answer is data, not GraphQL: its failure is thrown, and the runtime puts it at the field's path.
        if (upstream.kind === 'rest') throw new GraphQLError(message, { extensions: { code: failure.code } });
        const extensions = { code: failure.code };
        const paths = errorPerEntity ? entityErrorPaths(init?.body) : [];
        const body = { errors: paths.length > 0 ? paths.map((path) => ({ message, path, extensions })) : [{ message, extensions }] };
        return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
      });
    },
  };
}

const JSON_ONLY = 'application/graphql-response+json, application/json';
const INCREMENTAL = new Set(['defer', 'stream', 'live']);

/**
 * A subgraph request asks for a single JSON answer unless it needs more: the HTTP transport's
 * default Accept also offers multipart/mixed (for @defer/@stream), and a subgraph such as Masthead
 * answers a request that accepts multipart through its slower general path (Yoga's Fetch
 * handler) rather than its JSON one. Subscriptions keep the transport's text/event-stream.
 */
function useJsonAccept(): GatewayPlugin {
  return {
    onSubgraphExecute({ transportEntry, executionRequest, setExecutionRequest }) {
      if (transportEntry?.kind !== 'http') return;
      let incremental = false;
      visit(executionRequest.document, {
        OperationDefinition(node) {
          if (node.operation === 'subscription') {
            incremental = true;
            return BREAK;
          }
          return undefined;
        },
        Directive(node) {
          if (INCREMENTAL.has(node.name.value)) {
            incremental = true;
            return BREAK;
          }
          return undefined;
        },
      });
      if (incremental) return;
      // A copy: the request's extensions object may be shared with other subgraph requests.
      const extensions = executionRequest.extensions ?? {};
      setExecutionRequest({ ...executionRequest, extensions: { ...extensions, headers: { ...extensions.headers, accept: JSON_ONLY } } });
    },
  };
}

/**
 * For a failed `_entities` request, the paths a subgraph would give its errors: each
 * representation's fields, `['_entities', i, field]`. Hive Router's executor puts such errors at
 * each entity's place in the answer (where the JS planner does so itself); an error without a path
 * it would put once, at the list's path without indices.
 */
function entityErrorPaths(body: unknown): Array<Array<string | number>> {
  if (typeof body !== 'string' || !body.includes('_entities')) return [];
  try {
    const request = JSON.parse(body) as { query: string; variables?: { representations?: unknown[] } };
    const count = request.variables?.representations?.length ?? 0;
    const fields = new Set<string>();
    visit(parse(request.query), {
      Field(node) {
        if (node.name.value !== '_entities') return undefined;
        for (const fragment of node.selectionSet?.selections ?? []) {
          const selections = fragment.kind === Kind.INLINE_FRAGMENT ? fragment.selectionSet.selections : [fragment];
          for (const selection of selections)
            if (selection.kind === Kind.FIELD && selection.name.value !== '__typename') fields.add((selection.alias ?? selection.name).value);
        }
        return BREAK;
      },
    });
    return Array.from({ length: count }, (_, index) => [...fields].map((field) => ['_entities', index, field])).flat();
  } catch {
    return [];
  }
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
  upstreams: readonly Upstream[],
  options: GatewayOptions,
  logger: Logger,
): Promise<GatewayYoga> {
  const forwarded = options.forwardHeaders.map((name) => name.toLowerCase());
  const router = options.queryPlanner === 'router';
  const runtime = createGatewayRuntime({
    supergraph,
    ...(router ? { unifiedGraphHandler: (await import('@graphql-hive/router-runtime')).unifiedGraphHandler } : {}),
    ...(options.pollIntervalMs > 0 ? { pollingInterval: options.pollIntervalMs } : {}),
    transports: { http: httpTransport, rest: restTransport },
    logging: hiveLogger(logger, options.debug === true),
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
      useJsonAccept(),
      useSubgraphFailures(upstreams, router),
      useGetEndpoints({
        '/healthz': (fetchAPI) => jsonResponse(fetchAPI, 200, { status: 'ok' }),
        '/readyz': async (fetchAPI) => {
          const { status, body } = await upstreamReadiness(upstreams);
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
