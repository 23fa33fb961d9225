import { Webhook } from 'standardwebhooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, type WebhookConfig } from '../src/config.ts';
import type { FeedEntry } from '../src/feed/change-feed.ts';
import { Metrics } from '../src/metrics.ts';
import { openStore, type Store } from '../src/store/store.ts';
import { enableWebhookEndpoint, findWebhookEndpoint, listWebhookDeliveries } from '../src/store/webhook.repository.ts';
import { DeliveryWorker, retryDelayMs } from '../src/webhooks/delivery-worker.ts';
import { addWebhookEndpoint } from '../src/webhooks/endpoints.ts';
import { FeedFanout } from '../src/webhooks/feed-fanout.ts';
import { createTestApp, silentLogger, type TestApp } from './support/app.ts';
import { MemoryFeed } from './support/memory-feed.ts';
import { startWebhookReceiver, type WebhookReceiver } from './support/webhook-receiver.ts';

const config = (overrides: Partial<WebhookConfig> = {}): WebhookConfig => ({
  ...loadConfig({}).webhooks,
  allowPrivateAddresses: true,
  retryBaseMs: 20,
  retryMaxMs: 200,
  pollMs: 20,
  timeoutMs: 2000,
  ...overrides,
});

let app: TestApp;
let receiver: WebhookReceiver;
let feed: MemoryFeed;
const running: Array<{ stop(): Promise<void> }> = [];
const opened: Store[] = [];

beforeEach(async () => {
  app = await createTestApp({ seed: { issues: 2, authors: 3, articles: 6, seed: 5 } });
  receiver = await startWebhookReceiver();
  feed = new MemoryFeed();
});
afterEach(async () => {
  for (const part of running.splice(0)) await part.stop();
  for (const store of opened.splice(0)) await store.close();
  await receiver.close();
  await app.close();
});

/** Starts a fan-out and a worker on `store` (by default the app's), as a server instance would. */
function startInstance(store: Store = app.store, webhooks: WebhookConfig = config()): { fanout: FeedFanout; worker: DeliveryWorker } {
  const worker = new DeliveryWorker(store, webhooks, silentLogger);
  const fanout = new FeedFanout(store, feed, silentLogger, () => worker.nudge());
  worker.start();
  fanout.start();
  running.push(fanout, worker);
  return { fanout, worker };
}

/** Another connection to the same store: a second instance. */
function secondStore(): Store {
  const store = openStore(app.config.store, new Metrics());
  opened.push(store);
  return store;
}

async function addEndpoint(events?: string, url = receiver.url): Promise<{ id: number; secret: string }> {
  const added = await addWebhookEndpoint(app.store, { url, events: events ?? null }, true);
  if ('errors' in added) throw new Error(JSON.stringify(added.errors));
  return { id: added.endpoint.id, secret: added.secret };
}

async function articleEntry(kind: FeedEntry['kind'], index = 0): Promise<Omit<FeedEntry, 'seq' | 'occurredAt'>> {
  const article = await app.store.db.selectFrom('articles').select(['id', 'issue_id']).orderBy('id').offset(index).limit(1).executeTakeFirstOrThrow();
  const authors = await app.store.db.selectFrom('bylines').select('author_id').where('article_id', '=', article.id).execute();
  return { kind, articleId: article.id, issueIds: article.issue_id === null ? [] : [article.issue_id], authorIds: authors.map((a) => a.author_id) };
}

const body = (attempt: { body: string }) => JSON.parse(attempt.body) as { type: string; timestamp: string; data: Record<string, unknown> };

describe('webhook deliveries', () => {
  it('POSTs each event signed per Standard Webhooks, verified as a receiver would, with the piece as the API shows it', async () => {
    const { secret } = await addEndpoint();
    startInstance();
    const entry = feed.append(await articleEntry('article.published'));
    const [delivered] = await receiver.waitForDelivered(1);
    if (!delivered) throw new Error('nothing delivered');
    const headers = {
      'webhook-id': String(delivered.headers['webhook-id']),
      'webhook-timestamp': String(delivered.headers['webhook-timestamp']),
      'webhook-signature': String(delivered.headers['webhook-signature']),
    };
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(secret).verify(delivered.body, headers)).toEqual(body(delivered));
    // A different secret, or a body changed in transit, fails verification.
    expect(() => new Webhook(`whsec_${Buffer.alloc(32, 7).toString('base64')}`).verify(delivered.body, headers)).toThrow();
    expect(() => new Webhook(secret).verify(delivered.body.replace('"data"', '"data" '), headers)).toThrow();

    const event = body(delivered);
    expect(event.type).toBe('article.published');
    expect(event.timestamp).toBe(entry.occurredAt.toISOString());
    const viaApi = await app.graphql<{ articles: { edges: Array<{ node: Record<string, unknown> }> } }>(
      '{ articles(first: 100, orderBy: PUBLISHED_AT_ASC) { edges { node { id slug headline publishedAt issue { number } authors { id slug name } } } } }',
    );
    const piece = viaApi.data?.articles.edges.map((e) => e.node).find((node) => node.id === event.data.id);
    expect(piece).toBeDefined();
    expect(event.data).toEqual({
      id: piece?.id,
      slug: piece?.slug,
      headline: piece?.headline,
      publishedAt: piece?.publishedAt,
      issueNumber: (piece?.issue as { number: number } | null)?.number ?? null,
      authors: piece?.authors,
    });
    // Only the events asked for: no cache.purge unless named.
    expect(receiver.attempts.map((a) => body(a).type)).toEqual(['article.published']);
  });

  it('sends a withdrawal with the id only, and cache.purge with the keys the entry names to endpoints that ask for it', async () => {
    await addEndpoint('article.withdrawn,cache.purge');
    startInstance();
    const entry = feed.append(await articleEntry('article.withdrawn', 1));
    const delivered = await receiver.waitForDelivered(2);
    const [withdrawn, purge] = delivered.map(body);
    expect(withdrawn).toEqual({
      type: 'article.withdrawn',
      timestamp: entry.occurredAt.toISOString(),
      data: { id: Buffer.from(`Article:${entry.articleId}`).toString('base64') },
    });
    expect(purge?.type).toBe('cache.purge');
    expect(purge?.data.keys).toEqual(
      expect.arrayContaining([`article-${entry.articleId}`, 'articles', 'search', ...entry.authorIds.map((id) => `author-${id}`)]),
    );
  });

  it('retries a failing receiver with backoff and the same webhook-id, keeping each endpoint in feed order', async () => {
    await addEndpoint();
    // The first two attempts at each message fail.
    receiver.answer = ({ seenBefore }) => (seenBefore < 2 ? { status: 503, body: 'busy' } : { status: 200 });
    startInstance();
    const entries = [];
    for (let i = 0; i < 3; i++) entries.push(feed.append(await articleEntry('article.updated', i)));
    const delivered = await receiver.waitForDelivered(3);
    expect(delivered.map((d) => body(d).data.id)).toEqual(entries.map((e) => Buffer.from(`Article:${e.articleId}`).toString('base64')));
    // Three attempts per message, all with one id, and no message begun before the one before was delivered.
    const ids = receiver.attempts.map((a) => String(a.headers['webhook-id']));
    expect(ids).toHaveLength(9);
    expect(new Set(ids).size).toBe(3);
    expect(ids.slice(0, 3).every((id) => id === ids[0])).toBe(true);
    expect(ids.slice(3, 6).every((id) => id === ids[3])).toBe(true);
    const endpointId = (await app.store.db.selectFrom('webhook_endpoints').select('id').executeTakeFirstOrThrow()).id;
    // The receiver has answered; the outcome is recorded just after.
    await expect
      .poll(async () => (await listWebhookDeliveries(app.store.db, endpointId, 10)).map((d) => [d.status, d.attempts, d.lastStatus]))
      .toEqual([
        ['delivered', 3, 200],
        ['delivered', 3, 200],
        ['delivered', 3, 200],
      ]);
  });

  it('gives up after the set number of attempts, goes on with the next, and switches the endpoint off after a run of failures', async () => {
    const { id } = await addEndpoint();
    receiver.answer = () => ({ status: 500, body: `${'x'.repeat(100_000)}` });
    startInstance(app.store, config({ maxAttempts: 2, disableAfterFailures: 5 }));
    for (let i = 0; i < 4; i++) feed.append(await articleEntry('article.updated', i));
    await expect.poll(async () => (await findWebhookEndpoint(app.store.db, id))?.enabled, { timeout: 10_000 }).toBe(false);
    const endpoint = await findWebhookEndpoint(app.store.db, id);
    expect(endpoint?.disabledReason).toMatch(/^5 failed attempts in a row/);
    const deliveries = await listWebhookDeliveries(app.store.db, id, 10);
    // Two given up after two attempts each, the third switched the endpoint off on its first retry.
    expect(deliveries.map((d) => [d.status, d.attempts]).reverse()).toEqual([
      ['failed', 2],
      ['failed', 2],
      ['pending', 1],
      ['pending', 0],
    ]);
    // The answer's body is kept as a short excerpt only.
    expect(deliveries.every((d) => (d.lastError ?? '').length <= 200)).toBe(true);
    expect(receiver.attempts).toHaveLength(5);

    // Switched on again, the rest goes out, in order.
    receiver.answer = () => ({ status: 204 });
    await enableWebhookEndpoint(app.store.db, id);
    await receiver.waitForDelivered(2);
    await expect
      .poll(async () => (await listWebhookDeliveries(app.store.db, id, 10)).map((d) => d.status))
      .toEqual(['delivered', 'delivered', 'failed', 'failed']);
  });

  it('does not follow redirects, and refuses at delivery time a receiver whose address is private when the setting forbids it', async () => {
    const redirected = await addEndpoint();
    receiver.answer = () => ({ status: 307, headers: { location: 'http://169.254.169.254/latest/meta-data' } });
    const worker = new DeliveryWorker(app.store, config({ maxAttempts: 1 }), silentLogger);
    const fanout = new FeedFanout(app.store, feed, silentLogger, () => {});
    feed.append(await articleEntry('article.updated'));
    await fanout.drain();
    await worker.deliverDue();
    expect(receiver.attempts).toHaveLength(1);
    const [redirect] = await listWebhookDeliveries(app.store.db, redirected.id, 1);
    expect(redirect).toMatchObject({ status: 'failed', lastStatus: 307, lastError: 'redirect to http://169.254.169.254/latest/meta-data not followed' });

    // Added while private addresses were allowed; delivered by an instance that forbids them.
    const strict = new DeliveryWorker(app.store, config({ allowPrivateAddresses: false, maxAttempts: 1 }), silentLogger);
    feed.append(await articleEntry('article.updated', 1));
    await fanout.drain();
    await strict.deliverDue();
    expect(receiver.attempts).toHaveLength(1);
    const [refused] = await listWebhookDeliveries(app.store.db, redirected.id, 1);
    expect(refused).toMatchObject({ status: 'failed', lastStatus: null });
    expect(refused?.lastError).toMatch(/127\.0\.0\.1, a loopback address.*WEBHOOK_ALLOW_PRIVATE_ADDRESSES=1/);
  });

  it('sends a burst to a healthy endpoint in batches on one kept connection, with a few statements per batch rather than several per event', async () => {
    const { id } = await addEndpoint('article.updated');
    const worker = new DeliveryWorker(app.store, config(), silentLogger);
    running.push(worker);
    const fanout = new FeedFanout(app.store, feed, silentLogger, () => {});
    for (let i = 0; i < 40; i++) feed.append(await articleEntry('article.updated', i % 6));
    await fanout.drain();
    // Two batches (32 and 8): each a claim, a read of the endpoint's secret and one statement
    // recording the outcomes; then the claim that finds nothing, and the first run's pruning.
    const statements = await app.statementsFor(() => worker.deliverDue());
    expect(statements).toBeLessThanOrEqual(8);
    const delivered = receiver.delivered();
    expect(delivered).toHaveLength(40);
    // Feed order, one connection.
    const seqs = delivered.map((d) => String(d.headers['webhook-id']));
    const outbox = (await listWebhookDeliveries(app.store.db, id, 100)).reverse();
    expect(seqs).toEqual(outbox.map((d) => d.messageId));
    expect(outbox.every((d) => d.status === 'delivered' && d.attempts === 1 && d.lastStatus === 204)).toBe(true);
    expect(new Set(delivered.map((d) => d.remotePort)).size).toBe(1);
  });

  it('puts back, untried and in order, the rest of a batch after an attempt in it fails', async () => {
    const { id } = await addEndpoint('article.updated');
    // The third message fails once.
    let calls = 0;
    receiver.answer = ({ seenBefore }) => (++calls === 3 && seenBefore === 0 ? { status: 503 } : { status: 204 });
    const worker = new DeliveryWorker(app.store, config({ retryBaseMs: 60_000, retryMaxMs: 60_000 }), silentLogger);
    running.push(worker);
    const fanout = new FeedFanout(app.store, feed, silentLogger, () => {});
    for (let i = 0; i < 6; i++) feed.append(await articleEntry('article.updated', i));
    await fanout.drain();
    await worker.deliverDue();
    // The retry waits a minute: nothing after it was sent.
    expect(receiver.attempts.map((a) => a.status)).toEqual([204, 204, 503]);
    const outbox = (await listWebhookDeliveries(app.store.db, id, 10)).reverse();
    expect(outbox.map((d) => [d.status, d.attempts, d.lastStatus])).toEqual([
      ['delivered', 1, 204],
      ['delivered', 1, 204],
      ['pending', 1, 503],
      ['pending', 0, null],
      ['pending', 0, null],
      ['pending', 0, null],
    ]);
    expect((await findWebhookEndpoint(app.store.db, id))?.failureRun).toBe(1);
  });

  // On SQLite the two instances share this process, and better-sqlite3 waits for the write lock
  // synchronously: one instance's wait holds up the other's open transaction until busy_timeout,
  // and the loser retries. Slow here (seconds), and never so between processes.
  it('delivers each event once with two instances on one store, and what was queued survives a restart', async () => {
    await addEndpoint();
    await addEndpoint(undefined, receiver.url.replace('/hooks', '/second'));
    // Written while no worker runs (as if the process stopped after the commit).
    const writer = new FeedFanout(app.store, feed, silentLogger, () => {});
    for (let i = 0; i < 3; i++) feed.append(await articleEntry('article.updated', i));
    await writer.drain();
    // Both instances start: each turns the feed and delivers.
    startInstance(app.store);
    startInstance(secondStore());
    for (let i = 3; i < 6; i++) feed.append(await articleEntry('article.published', i));
    await receiver.waitForDelivered(12);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const ids = receiver.attempts.map((a) => `${a.headers['webhook-id']}`);
    expect(ids).toHaveLength(12);
    // One message per entry and endpoint: the two endpoints share a message's id.
    expect(new Set(ids).size).toBe(6);
    expect(receiver.attempts.filter((a) => a.path === '/hooks')).toHaveLength(6);
    expect(receiver.attempts.filter((a) => a.path === '/second')).toHaveLength(6);
  });
});

describe('retry delays', () => {
  it('are drawn from a window twice the base after the first failure, doubling after each next one up to the cap (full jitter)', () => {
    const settings = { retryBaseMs: 1000, retryMaxMs: 60_000 };
    // The window's middle: the mean wait doubles from the base.
    expect([1, 2, 3, 4].map((n) => retryDelayMs(settings, n, 0.5))).toEqual([1000, 2000, 4000, 8000]);
    expect([1, 2, 3, 4].map((n) => retryDelayMs(settings, n, 1))).toEqual([2000, 4000, 8000, 16_000]);
    // Anywhere in the window, down to (almost) no wait.
    expect(retryDelayMs(settings, 3, 0)).toBe(1);
    expect(retryDelayMs(settings, 3, 0.25)).toBe(2000);
    expect(retryDelayMs(settings, 30, 1)).toBe(60_000);
    expect(retryDelayMs(settings, 30, 0.5)).toBe(30_000);
  });

  it('by default retry a failed first attempt within half a second and keep retrying for hours before giving up', () => {
    const defaults = loadConfig({}).webhooks;
    expect(retryDelayMs(defaults, 1, 1)).toBe(500);
    let mean = 0;
    for (let attempts = 1; attempts < defaults.maxAttempts; attempts++) mean += retryDelayMs(defaults, attempts, 0.5);
    expect(mean / 3_600_000).toBeGreaterThan(2.5);
    expect(retryDelayMs(defaults, defaults.maxAttempts, 1)).toBe(defaults.retryMaxMs);
  });
});
