// The floor of Masthead's own design: its engine and nothing else. The same Yoga (Masthead's
// schema, per-request loaders, graphql-jit through useCompiledExecution, parse and validation
// caches) behind a bare node:http handler (bare-yoga.ts). No HTTP rules, request budgets, query
// limits, auth, persisted documents, metrics per request, access log or error masking:
// Masthead's cost above this is what those cost; what this costs, Masthead cannot go below
// while Yoga and this schema serve it.
import { createYoga } from 'graphql-yoga';
import { ANONYMOUS } from '../../src/auth/api-keys.ts';
import { useCompiledExecution } from '../../src/compiled-execution.ts';
import { loadConfig } from '../../src/config.ts';
import { type Context, createContext } from '../../src/context.ts';
import { Metrics } from '../../src/metrics.ts';
import { MemoryRateLimiter } from '../../src/rate-limits/rate-limiter.ts';
import { subgraphSchema } from '../../src/schema/index.ts';
import { migrateToLatest } from '../../src/store/migrate.ts';
import { openStore } from '../../src/store/store.ts';
import { type BareClient, serveBareYoga } from './bare-yoga.ts';

const config = loadConfig();
const metrics = new Metrics();
const store = openStore(config.store, metrics, config);
await migrateToLatest(store);
// No budgets here: the sign-up limits per client and per address are off, as for every peer.
const off = { limit: 0, windowMs: 1 };
const signUps = { store, config: { ...config.signUp, perClient: off, perEmail: off }, rateLimiter: new MemoryRateLimiter(), onMessageQueued: () => {} };

const yoga = createYoga<BareClient, Context>({
  schema: subgraphSchema,
  logging: false,
  context: (client) => createContext(store, config, signUps, { address: client.address, userAgent: client.userAgent }, ANONYMOUS),
  plugins: [useCompiledExecution()],
});
await serveBareYoga(
  yoga as never,
  () => metrics.registry.metrics(),
  () => store.close(),
);
