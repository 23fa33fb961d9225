import type { IncomingMessage } from 'node:http';
import { GraphQLError } from 'graphql';
import { createYoga, maskError, type YogaServerInstance } from 'graphql-yoga';
import { useCompiledExecution } from './compiled-execution.ts';
import type { Config } from './config.ts';
import { type Context, createContext } from './context.ts';
import { resolveViewer } from './auth/api-keys.ts';
import { clientAddress } from './http/client-address.ts';
import { useClientErrorStatus } from './http/plugins/client-error-status.ts';
import { useGraphiQLDelivery } from './http/plugins/graphiql.ts';
import { usePhaseMetrics } from './http/plugins/phase-metrics.ts';
import { useOperationalEndpoints } from './http/plugins/operational-endpoints.ts';
import { recordCacheKeys } from './http/cdn-keys.ts';
import { corsDecision, type HttpRules } from './http/http-rules.ts';
import { useHttpGuards } from './http/plugins/http-guards.ts';
import { usePersistedDocuments } from './http/plugins/persisted-documents.ts';
import { loadManifest } from './http/trusted-documents.ts';
import { type ResponseStore, useResponseCache } from './http/plugins/response-cache.ts';
import { useSubscriptionPages } from './http/plugins/subscription-pages.ts';
import type { Tracing } from './tracing/tracing.ts';
import { useQueryLimits } from './limits/query-limits.ts';
import type { LoaderOptions } from './loaders/loaders.ts';
import type { Logger } from './logger.ts';
import type { Metrics } from './metrics.ts';
import { subgraphSchema } from './schema/index.ts';
import { MemoryRateLimiter, type RateLimiter } from './rate-limits/rate-limiter.ts';
import { storeFault } from './store/errors.ts';
import type { Store } from './store/store.ts';
import { codedError } from './errors/coded-error.ts';

export interface YogaDependencies {
  store: Store;
  config: Config;
  metrics: Metrics;
  logger: Logger;
  /** Counts sign-ups. @default a MemoryRateLimiter */
  rateLimiter?: RateLimiter;
  /** Called when a committed change queued a message: wakes the mail sender. @default no-op */
  onMessageQueued?: () => void;
  /** How the per-request loaders batch (the benchmark's naive peer switches batching off). @default batching on */
  loaderOptions?: LoaderOptions;
  /** Where whole answers to queries are kept (see useResponseCache). @default none: every request is computed */
  responseCache?: ResponseStore;
  /** OpenTelemetry spans of GraphQL operations (see src/tracing/tracing.ts). @default none */
  tracing?: Tracing | null;
}

/** What the Node listener hands Yoga with each request; absent under `yoga.fetch`. */
export interface ServerContext {
  req?: IncomingMessage;
}

const DEFAULT_QUERY = `# Welcome to Masthead. Try the latest print issue:
{
  latestIssue {
    number
    articleCount
    articles(first: 5) {
      edges { node { headline publishedAt authors { name } } }
    }
  }
}
`;

/** The HTTP rules' settings (src/http/http-rules.ts), from the configuration. */
export function httpRules(config: Config): HttpRules {
  return { ...config.http, trustProxyHops: config.trustProxyHops, https: config.publicUrl.startsWith('https:') };
}

/** The GraphQL server, apart from any listener: tests call `yoga.fetch` on it directly. */
export function createMastheadYoga({
  store,
  config,
  metrics,
  logger,
  rateLimiter = new MemoryRateLimiter(),
  onMessageQueued = () => {},
  loaderOptions,
  responseCache,
  tracing,
}: YogaDependencies): YogaServerInstance<ServerContext, Context> {
  const signUps = { store, config: config.signUp, rateLimiter, onMessageQueued };
  const manifest = config.http.trustedDocuments === null ? null : loadManifest(config.http.trustedDocuments);
  const graphiql = useGraphiQLDelivery();
  return createYoga<ServerContext, Context>({
    schema: recordCacheKeys(subgraphSchema),
    graphqlEndpoint: '/graphql',
    landingPage: false,
    logging: logger,
    graphiql: { title: 'Masthead', defaultQuery: DEFAULT_QUERY },
    // GraphiQL's assets inline from the package, not from a CDN: it works on a closed network.
    renderGraphiQL: graphiql.renderGraphiQL,
    context: async ({ request, req }) => {
      metrics.graphqlRequests.inc();
      const viewer = await resolveViewer(store, request.headers.get('authorization'));
      return createContext(
        store,
        config,
        signUps,
        {
          address: clientAddress(req?.socket.remoteAddress, request.headers.get('x-forwarded-for'), config.trustProxyHops),
          userAgent: request.headers.get('user-agent'),
        },
        viewer,
        loaderOptions,
      );
    },
    // Browsers may call from the configured origins only: others get no CORS headers at all.
    cors: (request) => corsDecision(config.http, request.headers.get('origin')),
    batching: { limit: config.limits.maxBatch },
    // Persisted documents are named by `documentId` (the GraphQL-over-HTTP proposal).
    extraParamNames: ['documentId'],
    maskedErrors: {
      maskError(error, message) {
        const cause = error instanceof GraphQLError && error.originalError ? error.originalError : error;
        const fault = storeFault(cause);
        if (fault) {
          // The store is down or too slow: say so plainly, with a 503, so clients retry later.
          metrics.graphqlErrors.inc();
          logger.warn(`store ${fault}:`, cause);
          return codedError(
            fault === 'timeout' ? 'STORE_TIMEOUT' : 'STORE_UNAVAILABLE',
            fault === 'timeout' ? 'The content store took too long to answer. Try again shortly.' : 'The content store is unavailable. Try again shortly.',
            { ...(error instanceof GraphQLError ? { nodes: error.nodes, path: error.path } : {}), headers: { 'retry-after': '5' } },
          );
        }
        const masked = maskError(error, message, false);
        if (masked !== error) {
          metrics.graphqlErrors.inc();
          logger.error('internal error while executing an operation:', (error as { originalError?: unknown }).originalError ?? error);
        }
        return masked;
      },
    },
    plugins: [
      useHttpGuards(httpRules(config), rateLimiter),
      useOperationalEndpoints(store, metrics),
      usePhaseMetrics(metrics),
      graphiql.plugin,
      useSubscriptionPages(store, logger),
      usePersistedDocuments(manifest),
      useQueryLimits(config.limits, config.maxPageSize, rateLimiter),
      useClientErrorStatus(),
      useCompiledExecution(),
      ...(responseCache ? [useResponseCache(store, responseCache)] : []),
      // Last: its execute wrapper then encloses whichever execute function runs.
      ...(tracing ? [tracing.plugin] : []),
    ],
  });
}
