import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import type { CompiledQuery } from 'kysely';
import { type Config, loadConfig } from '../../src/config.ts';
import { importDocuments } from '../../src/importer/import-documents.ts';
import type { Logger } from '../../src/logger.ts';
import { Metrics } from '../../src/metrics.ts';
import type { CorpusSize } from '../../src/seed/corpus.ts';
import { seedCorpus } from '../../src/seed/seed.ts';
import type { ResponseStore } from '../../src/http/plugins/response-cache.ts';
import type { RateLimiter } from '../../src/rate-limits/rate-limiter.ts';
import { migrateToLatest } from '../../src/store/migrate.ts';
import { openStore, type Store } from '../../src/store/store.ts';
import { createMastheadYoga } from '../../src/yoga.ts';
import { createThrowawayStore } from './store.ts';

export interface GraphQLResponse<T = Record<string, unknown>> {
  status: number;
  data?: T;
  errors?: Array<{ message: string; path?: Array<string | number>; extensions?: { code?: string } }>;
}

export const silentLogger: Logger & { errors: unknown[][] } = {
  errors: [],
  debug() {},
  info() {},
  warn() {},
  error(...args: unknown[]) {
    silentLogger.errors.push(args);
  },
  child: () => silentLogger,
};

export interface TestApp {
  store: Store;
  config: Config;
  metrics: Metrics;
  databaseUrl: string;
  fetch(path: string, init?: RequestInit): Promise<Response>;
  graphql<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse<T>>;
  /** Runs a typed document (see tests/operations and npm run codegen). */
  execute<R, V extends Record<string, unknown>>(document: TypedDocumentNode<R, V>, variables: V): Promise<GraphQLResponse<R>>;
  /** Statements that `work` sends to the store. */
  statementsFor(work: () => Promise<unknown>): Promise<number>;
  close(): Promise<void>;
}

/** A migrated throwaway store behind the real Yoga instance, optionally seeded or with imported documents. */
export async function createTestApp(
  options: {
    seed?: CorpusSize;
    documents?: string[];
    config?: Partial<Config>;
    onStatement?: (query: CompiledQuery) => void;
    rateLimiter?: RateLimiter;
    responseCache?: ResponseStore;
  } = {},
): Promise<TestApp> {
  const throwaway = await createThrowawayStore();
  const metrics = new Metrics();
  const store = openStore(throwaway.location, metrics, undefined, options.onStatement);
  await migrateToLatest(store);
  if (options.seed) await seedCorpus(store, options.seed);
  if (options.documents) {
    const report = await importDocuments(store, options.documents);
    if (report.failed.length > 0) throw new Error(`fixture import failed: ${JSON.stringify(report.failed)}`);
  }
  const config: Config = { ...loadConfig({}), store: throwaway.location, demoContent: false, ...options.config };
  const yoga = createMastheadYoga({
    store,
    config,
    metrics,
    logger: silentLogger,
    ...(options.rateLimiter ? { rateLimiter: options.rateLimiter } : {}),
    ...(options.responseCache ? { responseCache: options.responseCache } : {}),
  });
  const fetch = (path: string, init?: RequestInit) => Promise.resolve(yoga.fetch(new URL(path, 'http://masthead.test'), init ?? {}));
  const graphql = async <T>(query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse<T>> => {
    const response = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as Omit<GraphQLResponse<T>, 'status'>;
    return { status: response.status, ...body };
  };
  return {
    store,
    config,
    metrics,
    databaseUrl: throwaway.databaseUrl,
    fetch,
    graphql,
    execute: (document, variables) => graphql(print(document), variables),
    async statementsFor(work) {
      const before = metrics.storeQueries.get();
      await work();
      return metrics.storeQueries.get() - before;
    },
    async close() {
      // A test may have closed the store already, to see what happens without it.
      await store.close().catch(() => {});
      await throwaway.drop();
    },
  };
}
