// Masthead as `masthead serve` runs it (the same Yoga instance behind the same node:http listener,
// the same settings from the environment, RESPONSE_CACHE included) less the mail sender: it
// drains the outbox in the background, is no part of any request, and would drain the peers'
// sign-ups too. The runner starts the `masthead` peer with RESPONSE_CACHE=off, so that every
// request is computed, and `masthead-cached` with RESPONSE_CACHE=on.
import { createServer } from 'node:http';
import { loadConfig } from '../../src/config.ts';
import type { LoaderOptions } from '../../src/loaders/loaders.ts';
import { createResponseStore } from '../../src/http/plugins/response-cache.ts';
import { createLogger } from '../../src/logger.ts';
import { Metrics } from '../../src/metrics.ts';
import { pipelineRequestListener } from '../../src/server.ts';
import { createRateLimiter } from '../../src/rate-limits/rate-limiter.ts';
import { migrateToLatest } from '../../src/store/migrate.ts';
import { openStore } from '../../src/store/store.ts';
import { createMastheadYoga } from '../../src/yoga.ts';

export async function serveMasthead(loaderOptions?: LoaderOptions): Promise<void> {
  const config = loadConfig();
  const metrics = new Metrics();
  const logger = createLogger({ level: 'warn' });
  const store = openStore(config.store, metrics, config);
  await migrateToLatest(store);
  const rateLimiter = createRateLimiter(config.redisUrl, logger);
  const responseCache = config.responseCache ? createResponseStore(config.redisUrl, logger) : null;
  const yoga = createMastheadYoga({
    store,
    config,
    metrics,
    logger,
    rateLimiter,
    ...(loaderOptions ? { loaderOptions } : {}),
    ...(responseCache ? { responseCache } : {}),
  });
  const server = createServer(pipelineRequestListener(yoga, { store, config, metrics, logger, rateLimiter, responseCache }));
  await new Promise<void>((resolve) => server.listen(config.port, config.host, resolve));
  process.once('SIGTERM', () => {
    server.close();
    server.closeAllConnections();
    void store.close().then(() => process.exit(0));
  });
}
