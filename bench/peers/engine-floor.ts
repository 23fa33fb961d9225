// The floor of Masthead's own design: its engine and nothing else. The same Yoga (Masthead's
// schema, per-request loaders, graphql-jit through useCompiledExecution, parse and validation
// caches), driven from a bare node:http handler through the same call the listener makes
// (getResultForParams), the answer written with JSON.stringify. No HTTP rules, request budgets,
// query limits, auth, persisted documents, metrics per request, access log or error masking:
// Masthead's cost above this is what those cost; what this costs, Masthead cannot go below
// while Yoga and this schema serve it.
import { createServer } from 'node:http';
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
import { HOST, PORT, readBody, socketAddress } from './common.ts';

const config = loadConfig();
const metrics = new Metrics();
const store = openStore(config.store, metrics, config);
await migrateToLatest(store);
// No budgets here: the sign-up limits per client and per address are off, as for every peer.
const off = { limit: 0, windowMs: 1 };
const signUps = { store, config: { ...config.signUp, perClient: off, perEmail: off }, rateLimiter: new MemoryRateLimiter(), onMessageQueued: () => {} };

const yoga = createYoga<{ address: string | null; userAgent: string | null }, Context>({
  schema: subgraphSchema,
  logging: false,
  context: ({ address, userAgent }) => createContext(store, config, signUps, { address, userAgent }, ANONYMOUS),
  plugins: [useCompiledExecution()],
});

const server = createServer(async (req, res) => {
  if (req.url === '/metrics') {
    res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(await metrics.registry.metrics());
    return;
  }
  const params = JSON.parse(await readBody(req));
  const request = { method: 'POST', url: `http://${HOST}${req.url}`, headers: new Headers() } as Request;
  const client = { address: socketAddress(req.socket.remoteAddress), userAgent: req.headers['user-agent'] ?? null };
  const result = await yoga.getResultForParams({ params, request }, client);
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(result));
});
await new Promise<void>((resolve) => server.listen(PORT, HOST, resolve));
process.once('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  void store.close().then(() => process.exit(0));
});
