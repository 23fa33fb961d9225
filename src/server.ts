import type { RequestListener } from 'node:http';
import { type Config, describeStore } from './config.ts';
import { createFront } from './http/listener/cached-answer-fast-path.ts';
import { createAnswerStore, createResponseStore, type ResponseStore } from './http/plugins/response-cache.ts';
import { listen } from './http/listener/listen.ts';
import type { Logger } from './logger.ts';
import { OutboxSender } from './mail/outbox-sender.ts';
import { createMailTransport } from './mail/transport.ts';
import { Metrics } from './metrics.ts';
import { loadDemoContentIfEmpty } from './seed/demo.ts';
import { createRateLimiter, type RateLimiter } from './rate-limits/rate-limiter.ts';
import { migrateToLatest } from './store/migrate.ts';
import { countContent } from './store/totals.repository.ts';
import { openStore, type Store } from './store/store.ts';
import { createMastheadYoga } from './yoga.ts';

export interface RunningServer {
  url: string;
  store: Store;
  close(): Promise<void>;
}

/** Opens and migrates the store, loads the demo corpus where configured, starts the mail sender, and listens. */
export async function startServer(config: Config, logger: Logger): Promise<RunningServer> {
  const metrics = new Metrics({ process: true });
  const store = openStore(config.store, metrics, config);
  try {
    const applied = await migrateToLatest(store);
    if (applied.length > 0) logger.info(`store migrated: ${applied.join(', ')}`);
    if (config.demoContent) {
      const loaded = await loadDemoContentIfEmpty(store);
      if (loaded) logger.info(`the store was empty: loaded the demo corpus (${loaded.articles} articles)`);
    }
    const counts = await countContent(store.db);
    logger.info(`store: ${describeStore(config.store)}, holding ${counts.articles} articles, ${counts.issues} issues and ${counts.authors} authors`);
    if (counts.articles === 0) {
      logger.warn(
        config.store.dialect === 'postgres' || !config.store.embeddedDefault
          ? 'the store in DATABASE_URL holds no articles: import some with `masthead import FOLDER`, or set DEMO_CONTENT=1 for the demo corpus'
          : 'the store holds no articles: import some with `masthead import FOLDER`',
      );
    }
  } catch (error) {
    await store.close();
    throw error;
  }
  const transport = createMailTransport(config.mail);
  const sender = new OutboxSender(store, transport, config, logger);
  const rateLimiter = createRateLimiter(config.redisUrl, logger);
  const responseCache = config.responseCache ? createResponseStore(config.redisUrl, logger) : null;
  const yoga = createMastheadYoga({
    store,
    config,
    metrics,
    logger,
    rateLimiter,
    ...(responseCache ? { responseCache } : {}),
    onMessageQueued: () => sender.nudge(),
  });
  let listening: Awaited<ReturnType<typeof listen>>;
  try {
    listening = await listen(serveFront(yoga, { store, config, metrics, rateLimiter, responseCache }), config.port, config.host, {
      requestTimeoutMs: config.http.requestTimeoutMs,
    });
  } catch (error) {
    // The port is taken (or forbidden): let go of what was opened, so the process can exit.
    await rateLimiter.close();
    await responseCache?.close();
    await store.close();
    throw error;
  }
  const { url } = listening;
  logger.info(`Masthead serves ${url}/graphql on ${store.dialect === 'sqlite' ? 'SQLite' : 'PostgreSQL'}`);
  logger.info(
    config.mail.sender
      ? `mail goes to ${transport.description}${config.mail.smtpUrl === null ? ' (SMTP_URL is unset)' : ''}; links start ${config.publicUrl}`
      : 'MAIL_SENDER is off: this instance queues mail and another delivers it',
  );
  if (config.redisUrl !== null) {
    logger.info(`sign-up rate limits${responseCache ? ' and cached responses' : ''} are kept in Redis (REDIS_URL)`);
  }
  if (!responseCache) logger.info('RESPONSE_CACHE is off: every request is computed');
  if (config.mail.sender) sender.start();
  return {
    url,
    store,
    close: async () => {
      await listening.close();
      await sender.stop();
      await rateLimiter.close();
      await responseCache?.close();
      await store.close();
    },
  };
}

/**
 * The node:http listener as `masthead serve` runs it (the benchmark's Masthead peer too): the
 * response cache's fast path in front of Yoga when the cache is on, else Yoga alone.
 */
export function serveFront(
  yoga: RequestListener,
  deps: { store: Store; config: Config; metrics: Metrics; rateLimiter: RateLimiter; responseCache: ResponseStore | null },
): RequestListener {
  if (deps.responseCache === null) return yoga;
  return createFront({ yoga, ...deps, answers: createAnswerStore(deps.responseCache) });
}
