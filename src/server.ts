import type { RequestListener } from 'node:http';
import type { YogaServerInstance } from 'graphql-yoga';
import { type Config, defaultPublicUrl, describeStore } from './config.ts';
import type { Context } from './context.ts';
import { FeedAnnouncer, StoreChangeFeed } from './feed/store-change-feed.ts';
import { LiveHub } from './live/live-hub.ts';
import { createPipeline, type Pipeline } from './http/listener/pipeline.ts';
import { createAnswerStore, createResponseStore, type ResponseStore } from './http/plugins/response-cache.ts';
import { listen } from './http/listener/listen.ts';
import type { Logger } from './logger.ts';
import { OutboxSender } from './mail/outbox-sender.ts';
import { createMailTransport } from './mail/transport.ts';
import { Metrics } from './metrics.ts';
import { createRateLimiter, type RateLimiter } from './rate-limits/rate-limiter.ts';
import { redisNamespace } from './redis.ts';
import { migrateToLatest } from './store/migrate.ts';
import { countContent } from './store/totals.repository.ts';
import { readStoreIdentity } from './store/store-identity.repository.ts';
import { openStore, type Store } from './store/store.ts';
import { startTracing, type Tracing } from './tracing/tracing.ts';
import { DeliveryWorker } from './webhooks/delivery-worker.ts';
import { FeedFanout } from './webhooks/feed-fanout.ts';
import { createMastheadYoga, httpRules, type ServerContext } from './yoga.ts';

export interface RunningServer {
  url: string;
  store: Store;
  /** The store's change feed, tailed once for this process. */
  feed: StoreChangeFeed;
  close(): Promise<void>;
}

/** Opens and migrates the store, loads the demo corpus where configured, starts the mail sender, and listens. */
export async function startServer(config: Config, logger: Logger): Promise<RunningServer> {
  const metrics = new Metrics({ process: true });
  const tracing = await startTracing(config.tracing, config.store.dialect === 'sqlite' ? 'sqlite' : 'postgresql', logger);
  const store = openStore(config.store, metrics, config, tracing ? (query, ms, failed) => tracing.statement(query.sql, ms, failed) : undefined);
  let identity: string | null = null;
  try {
    const applied = await migrateToLatest(store);
    if (applied.length > 0) logger.info(`store migrated: ${applied.join(', ')}`);
    let counts = await countContent(store.db);
    // The seeder and its corpus are loaded only to fill an empty store: a store with content never loads them.
    if (config.demoContent && counts.articles === 0 && counts.issues === 0 && counts.authors === 0) {
      const { loadDemoContentIfEmpty } = await import('./seed/demo.ts');
      const loaded = await loadDemoContentIfEmpty(store);
      if (loaded) {
        logger.info(`the store was empty: loaded the demo corpus (${loaded.articles} articles)`);
        counts = await countContent(store.db);
      }
    }
    logger.info(`store: ${describeStore(config.store)}, holding ${counts.articles} articles, ${counts.issues} issues and ${counts.authors} authors`);
    if (counts.articles === 0) {
      logger.warn(
        config.store.dialect === 'postgres' || !config.store.embeddedDefault
          ? 'the store in DATABASE_URL holds no articles: import some with `masthead import FOLDER`, or set DEMO_CONTENT=1 for the demo corpus'
          : 'the store holds no articles: import some with `masthead import FOLDER`',
      );
    }
    if (config.redisUrl !== null) identity = await readStoreIdentity(store.db);
  } catch (error) {
    await store.close();
    await tracing?.shutdown();
    throw error;
  }
  // The change feed: tailed once for the process; the announcer records scheduled pieces at their time.
  const feed = new StoreChangeFeed(store, config.store, { connectTimeoutMs: config.connectTimeoutMs });
  const announcer = new FeedAnnouncer(store, logger, { intervalMs: ANNOUNCE_INTERVAL_MS, retentionMs: config.live.feedRetentionMs });
  // Made once the port is bound (see servedConfig); a sign-up before then is sent on its first poll.
  let sender: OutboxSender | null = null;
  // Redis keys are bound to this store, so deployments sharing a Redis never share a key.
  const namespace = identity === null ? config.redisPrefix : redisNamespace(config.redisPrefix, identity);
  const rateLimiter = createRateLimiter(config.redisUrl, logger, { namespace });
  const responseCache = config.responseCache ? createResponseStore(config.redisUrl, logger, { budget: config.responseCacheBudget, namespace }) : null;
  // A healthy Redis is connected before the first request (bounded: a Redis that does not answer
  // leaves the limits in memory and every answer computed until it does).
  // Likewise the store's content watch, so that a cached answer costs no statement from the start.
  // The feed's announcer reads the content state too, cache or not.
  const [, , watching] = await Promise.all([rateLimiter.ready?.(), responseCache?.ready?.(), store.watchContent()]);
  if (!watching) logger.warn('the content version watch is not listening yet: each cached answer reads the version until it is');
  const yoga = createMastheadYoga({
    store,
    config,
    metrics,
    logger,
    rateLimiter,
    ...(responseCache ? { responseCache } : {}),
    onMessageQueued: () => sender?.nudge(),
    tracing,
  });
  // Pieces whose time passed while no server ran are announced before the first request.
  await announcer.tick();
  await feed.start();
  const live = new LiveHub(store, feed, {
    maxStreams: config.live.maxStreams,
    maxStreamsPerClient: config.live.maxStreamsPerClient,
    heartbeatMs: config.live.heartbeatSeconds * 1000,
    maxBufferedBytes: config.live.maxBufferedBytes,
    stallMs: config.live.stallSeconds * 1000,
  });
  const pipeline = servePipeline(yoga, { store, config, metrics, logger, rateLimiter, responseCache, live, tracing });
  let listening: Awaited<ReturnType<typeof listen>>;
  try {
    listening = await listen(pipeline.request, config.port, config.host, {
      requestTimeoutMs: config.http.requestTimeoutMs,
      checkContinue: pipeline.checkContinue,
    });
  } catch (error) {
    // The port is taken (or forbidden): let go of what was opened, so the process can exit.
    await feed.close();
    await rateLimiter.close();
    await responseCache?.close();
    await store.close();
    await tracing?.shutdown();
    throw error;
  }
  const { url } = listening;
  const served = servedConfig(config, Number(new URL(url).port));
  const transport = createMailTransport(config.mail);
  sender = new OutboxSender(store, transport, served, logger);
  logger.info(`Masthead serves ${url}/graphql on ${store.dialect === 'sqlite' ? 'SQLite' : 'PostgreSQL'}`);
  logger.info(
    config.mail.sender
      ? `mail goes to ${transport.description}${config.mail.smtpUrl === null ? ' (SMTP_URL is unset)' : ''}; links start ${served.publicUrl}`
      : 'MAIL_SENDER is off: this instance queues mail and another delivers it',
  );
  if (config.redisUrl !== null) {
    logger.info(`sign-up rate limits${responseCache ? ' and cached responses' : ''} are kept in Redis (REDIS_URL)`);
  }
  if (!responseCache) logger.info('RESPONSE_CACHE is off: every request is computed');
  if (config.mail.sender) sender.start();
  announcer.start();
  // Webhooks: the feed turned into deliveries (one instance writes each batch), and the worker that sends them.
  const webhookWorker = config.webhooks.sender ? new DeliveryWorker(store, config.webhooks, logger) : null;
  const fanout = webhookWorker ? new FeedFanout(store, feed, logger, () => webhookWorker.nudge()) : null;
  webhookWorker?.start();
  fanout?.start();
  return {
    url,
    store,
    feed,
    close: async () => {
      // Streams end first, each with `complete`: the server closes once they have.
      live.closeAll();
      await listening.close();
      await announcer.stop();
      await fanout?.stop();
      await webhookWorker?.stop();
      await feed.close();
      await sender?.stop();
      await rateLimiter.close();
      await responseCache?.close();
      await store.close();
      await tracing?.shutdown();
    },
  };
}

/** How often the announcer looks for scheduled pieces that came due: they go out within this of their time. */
const ANNOUNCE_INTERVAL_MS = 250;

/**
 * The settings as served: with PORT=0 and no PUBLIC_URL, links in e-mails name the port that was
 * bound, not port 0, which no reader could open.
 */
function servedConfig(config: Config, boundPort: number): Config {
  if (config.port !== 0 || config.publicUrl !== defaultPublicUrl(config.host, 0)) return config;
  return { ...config, publicUrl: defaultPublicUrl(config.host, boundPort) };
}

/**
 * The node:http listener as `masthead serve` runs it: one pipeline that applies the HTTP rules
 * and drives Yoga (src/http/listener/pipeline.ts), with the response cache's answers when it is on.
 */
export function servePipeline(
  yoga: YogaServerInstance<ServerContext, Context>,
  deps: {
    store: Store;
    config: Config;
    metrics: Metrics;
    logger: Logger;
    rateLimiter: RateLimiter;
    responseCache: ResponseStore | null;
    tracing?: Tracing | null;
    /** Subscriptions over SSE; absent: none. */
    live?: LiveHub;
  },
): Pipeline {
  return createPipeline({
    live: deps.live ?? null,
    yoga,
    store: deps.store,
    rules: httpRules(deps.config),
    metrics: deps.metrics,
    logger: deps.logger,
    rateLimiter: deps.rateLimiter,
    answers: deps.responseCache === null ? null : createAnswerStore(deps.responseCache),
    tracing: deps.tracing ?? null,
    cacheKeyHeaderMaxBytes: deps.config.webhooks.cacheKeyHeaderMaxBytes,
  });
}

/** The pipeline's request listener alone (the benchmark's Masthead peer listens with it). */
export function pipelineRequestListener(
  yoga: YogaServerInstance<ServerContext, Context>,
  deps: { store: Store; config: Config; metrics: Metrics; logger: Logger; rateLimiter: RateLimiter; responseCache: ResponseStore | null },
): RequestListener {
  return servePipeline(yoga, deps).request;
}
