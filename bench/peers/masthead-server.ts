// Masthead as `masthead serve` runs it (the same Yoga instance on node:http, the same settings
// from the environment) less the mail sender: it drains the outbox in the background, is no
// part of any request, and would drain the peers' sign-ups too. The response cache is off, so
// that every request is computed, unless RESPONSE_CACHE=memory (the runner's cached workload).
import { createServer } from 'node:http';
import { loadConfig } from '../../src/config.ts';
import type { LoaderOptions } from '../../src/loaders/loaders.ts';
import { MemoryResponseStore } from '../../src/http/response-cache.ts';
import { createLogger } from '../../src/logger.ts';
import { Metrics } from '../../src/metrics.ts';
import { migrateToLatest } from '../../src/store/migrate.ts';
import { openStore } from '../../src/store/store.ts';
import { createMastheadYoga } from '../../src/yoga.ts';

export async function serveMasthead(loaderOptions?: LoaderOptions): Promise<void> {
  const config = loadConfig();
  const metrics = new Metrics();
  const store = openStore(config.store, metrics, config);
  await migrateToLatest(store);
  const yoga = createMastheadYoga({
    store,
    config,
    metrics,
    logger: createLogger('warn'),
    ...(loaderOptions ? { loaderOptions } : {}),
    ...(process.env.RESPONSE_CACHE === 'memory' ? { responseCache: new MemoryResponseStore() } : {}),
  });
  const server = createServer(yoga);
  await new Promise<void>((resolve) => server.listen(config.port, config.host, resolve));
  process.once('SIGTERM', () => {
    server.close();
    server.closeAllConnections();
    void store.close().then(() => process.exit(0));
  });
}
