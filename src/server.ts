import type { Config } from './config.ts';
import { createResponseStore } from './http/response-cache.ts';
import { listen } from './http/listen.ts';
import type { Logger } from './logger.ts';
import { OutboxSender } from './mail/outbox-sender.ts';
import { createMailTransport } from './mail/transport.ts';
import { Metrics } from './metrics.ts';
import { loadDemoContentIfEmpty } from './seed/demo.ts';
import { createRateLimiter } from './sign-ups/rate-limiter.ts';
import { migrateToLatest } from './store/migrate.ts';
import { openStore, type Store } from './store/store.ts';
import { createMastheadYoga } from './yoga.ts';

export interface RunningServer {
  url: string;
  store: Store;
  close(): Promise<void>;
}

/** Opens and migrates the store, loads the demo corpus where configured, starts the mail sender, and listens. */
export async function startServer(config: Config, logger: Logger): Promise<RunningServer> {
  const metrics = new Metrics();
  const store = openStore(config.store, metrics, config);
  try {
    const applied = await migrateToLatest(store);
    if (applied.length > 0) logger.info(`store migrated: ${applied.join(', ')}`);
    if (config.demoContent) {
      const loaded = await loadDemoContentIfEmpty(store);
      if (loaded) logger.info(`the store was empty: loaded the demo corpus (${loaded.articles} articles)`);
    }
  } catch (error) {
    await store.close();
    throw error;
  }
  const transport = createMailTransport(config.mail);
  const sender = new OutboxSender(store, transport, config, logger);
  const rateLimiter = createRateLimiter(config.redisUrl, logger);
  const responseCache = createResponseStore(config.redisUrl, logger);
  const yoga = createMastheadYoga({
    store,
    config,
    metrics,
    logger,
    rateLimiter,
    responseCache,
    onMessageQueued: () => sender.nudge(),
  });
  const listening = await listen(yoga, config.port, config.host, { requestTimeoutMs: config.http.requestTimeoutMs });
  const { url } = listening;
  logger.info(`Masthead serves ${url}/graphql on ${store.dialect === 'sqlite' ? 'SQLite' : 'PostgreSQL'}`);
  logger.info(
    config.mail.sender
      ? `mail goes to ${transport.description}${config.mail.smtpUrl === null ? ' (SMTP_URL is unset)' : ''}; links start ${config.publicUrl}`
      : 'MAIL_SENDER is off: this instance queues mail and another delivers it',
  );
  if (config.redisUrl !== null) logger.info('sign-up rate limits and cached responses are kept in Redis (REDIS_URL)');
  if (config.mail.sender) sender.start();
  return {
    url,
    store,
    close: async () => {
      await listening.close();
      await sender.stop();
      await rateLimiter.close();
      await responseCache.close();
      await store.close();
    },
  };
}
