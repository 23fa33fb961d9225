import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseStoreLocation } from '../src/config.ts';
import { MemoryResponseStore, RedisResponseStore } from '../src/http/plugins/response-cache.ts';
import { importDocuments } from '../src/importer/import-documents.ts';
import { Metrics } from '../src/metrics.ts';
import { openStore, type Store } from '../src/store/store.ts';
import { createTestApp, silentLogger, type TestApp } from './support/app.ts';
import { runCli, type ServerProcess, startServerProcess } from './support/cli.ts';
import { rawRequest } from './support/raw-http.ts';
import { REDIS_URL, redisAnswers } from './support/redis.ts';
import { listenSilently } from './support/silent-socket.ts';
import { seedCorpus } from '../src/seed/seed.ts';
import { migrateToLatest } from '../src/store/migrate.ts';
import { createThrowawayStore, testDialect, type ThrowawayStore } from './support/store.ts';
import { requestStatements } from './support/answers.ts';

/** Statements a cache hit sends: none, on SQLite (PRAGMA data_version) and on PostgreSQL (LISTEN/NOTIFY). */
const HIT_STATEMENTS = 0;

/**
 * Runs `check` after a write through another connection: on SQLite it must hold at once; on
 * PostgreSQL once the write's announcement has arrived, so it is polled, within two seconds.
 */
async function afterWrite(check: () => Promise<void>): Promise<void> {
  if (testDialect === 'sqlite') return check();
  const deadline = Date.now() + 2000;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

const FIXTURES = path.resolve(import.meta.dirname, 'fixtures/documents');

/** Counts what the cache is asked to keep. */
class CountingStore extends MemoryResponseStore {
  kept = 0;
  override async set(key: string, body: string, ttlMs: number): Promise<void> {
    this.kept++;
    await super.set(key, body, ttlMs);
  }
}

let app: TestApp;
let cache: CountingStore;
/** A second connection to the same store, as `masthead import` in another process would open. */
let other: Store;

beforeAll(async () => {
  cache = new CountingStore();
  app = await createTestApp({ seed: { issues: 8, authors: 10, articles: 120, seed: 3 }, responseCache: cache });
  expect(await app.store.watchContent()).toBe(true);
  other = openStore(parseStoreLocation(app.databaseUrl, process.cwd()), new Metrics());
});
afterAll(async () => {
  await other?.close();
  await app?.close();
});

const NEWEST = '{ articles(first: 3) { edges { node { slug headline authors { name } issue { number } } } } }';

async function answer(query: string, variables?: Record<string, unknown>) {
  let body: unknown;
  const statements = await app.statementsFor(async () => {
    const response = await app.graphql(query, variables);
    expect(response.errors).toBeUndefined();
    body = response.data;
  });
  return { body, statements };
}

describe('the response cache', () => {
  it('answers a repeated query with the same body from one statement', async () => {
    const first = await answer(NEWEST);
    const again = await answer(NEWEST);
    expect(first.statements).toBeGreaterThan(2);
    expect(again.statements).toBe(HIT_STATEMENTS);
    expect(again.body).toEqual(first.body);
  });

  it('keeps answers apart by their variables', async () => {
    const query = 'query Q($n: Int) { articles(first: $n) { edges { node { slug } } } }';
    const two = await answer(query, { n: 2 });
    const three = await answer(query, { n: 3 });
    expect((three.body as { articles: { edges: unknown[] } }).articles.edges).toHaveLength(3);
    expect((two.body as { articles: { edges: unknown[] } }).articles.edges).toHaveLength(2);
  });

  it('shows a write made through another connection, never the answer from before it', async () => {
    const before = (await answer(NEWEST)).body as { articles: { edges: { node: { slug: string; headline: string } }[] } };
    const newest = before.articles.edges[0]!.node;
    await other.db.updateTable('articles').set({ headline: 'Rewritten by an editor' }).where('slug', '=', newest.slug).execute();
    await afterWrite(async () => {
      const after = (await answer(NEWEST)).body as typeof before;
      expect(after.articles.edges[0]!.node.headline).toBe('Rewritten by an editor');
    });
  });

  it('shows a piece that an import in another process adds, where a cached answer said there was none', async () => {
    const query = '{ author(slug: "sam-okoro") { name articles(first: 5) { edges { node { headline } } } } }';
    expect((await answer(query)).body).toEqual({ author: null });
    expect((await answer(query)).statements).toBe(HIT_STATEMENTS);
    const report = await importDocuments(other, [path.join(FIXTURES, 'good/web-only.txt')]);
    expect(report.created).toBe(1);
    await afterWrite(async () => {
      expect((await answer(query)).body).toEqual({
        author: { name: 'Sam Okoro', articles: { edges: [{ node: { headline: 'Live: climate march reaches the square' } }] } },
      });
    });
  });

  it('shows a scheduled piece when its time comes, though nothing was written since', async () => {
    const soon = new Date(Date.now() + 1500).toISOString();
    // The oldest piece, moved to a moment from now: until then the public does not see it.
    const [piece] = await other.db.selectFrom('articles').select(['id', 'slug']).orderBy('published_at').limit(1).execute();
    await other.db.updateTable('articles').set({ status: 'published', published_at: soon }).where('id', '=', piece!.id).execute();
    await other.db.updateTable('bylines').set({ status: 'published', published_at: soon }).where('article_id', '=', piece!.id).execute();
    const query = '{ articles(first: 1) { edges { node { slug } } } }';
    const early = (await answer(query)).body as { articles: { edges: { node: { slug: string } }[] } };
    expect(early.articles.edges[0]?.node.slug).not.toBe(piece!.slug);
    // Kept (on PostgreSQL once the writes above have been announced), though the piece comes out soon.
    await afterWrite(async () => expect((await answer(query)).statements).toBe(HIT_STATEMENTS));
    await new Promise((resolve) => setTimeout(resolve, Date.parse(soon) - Date.now() + 50));
    const later = (await answer(query)).body as typeof early;
    expect(later.articles.edges[0]?.node.slug).toBe(piece!.slug);
  });

  it.runIf(testDialect === 'postgres')(
    'on PostgreSQL sends no statement per hit, and stays exact while its listening connection is lost and back',
    async () => {
      const query = '{ issues(first: 2) { edges { node { number articleCount } } } }';
      await answer(query);
      for (let i = 0; i < 5; i++) expect((await answer(query)).statements).toBe(0);

      // The watch's connection is cut: until it listens again, each request reads the version.
      await sql`select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'masthead-content-watch' and datname = current_database()`.execute(
        other.db,
      );
      await other.db
        .updateTable('issues')
        .set({ number: 9001 })
        .where(
          'number',
          '=',
          (
            await other.db
              .selectFrom('issues')
              .select((eb) => eb.fn.max('number').as('n'))
              .executeTakeFirstOrThrow()
          ).n,
        )
        .execute();
      await afterWrite(async () => {
        const body = (await answer(query)).body as { issues: { edges: { node: { number: number } }[] } };
        expect(body.issues.edges[0]!.node.number).toBe(9001);
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await app.store.watchContent()).toBe(true);
      await answer(query);
      expect((await answer(query)).statements).toBe(0);

      // Listening again: a write from another connection shows within the polled bound.
      await other.db.updateTable('issues').set({ number: 9002 }).where('number', '=', 9001).execute();
      await afterWrite(async () => {
        const body = (await answer(query)).body as { issues: { edges: { node: { number: number } }[] } };
        expect(body.issues.edges[0]!.node.number).toBe(9002);
      });
    },
  );

  it('keeps no answer with errors, and no mutation', async () => {
    const kept = cache.kept;
    for (let i = 0; i < 2; i++) {
      const refused = await app.graphql('{ articles(first: 5000) { edges { node { slug } } } }');
      expect(refused.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      const signUp = await app.graphql(
        'mutation { subscribe(input: { email: "cached@example.org", newsletter: "breakfast-in-red" }) { subscription { status } userErrors { code } } }',
      );
      expect(signUp.errors).toBeUndefined();
    }
    expect(cache.kept).toBe(kept);
    const consents = await app.store.db
      .selectFrom('consents')
      .innerJoin('subscriptions', 'subscriptions.id', 'consents.subscription_id')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('subscriptions.email', '=', 'cached@example.org')
      .executeTakeFirstOrThrow();
    expect(Number(consents.n)).toBe(2);
  });

  it('forgets the least recently used answer past its byte budget, and every answer past its time', async () => {
    // Each entry: a one-byte key and 1000 bytes of answer; room for three.
    const small = new MemoryResponseStore({ maxBytes: 3100, maxEntryBytes: 2000 });
    const answer = (c: string) => c.repeat(1000);
    await small.set('a', answer('A'), 60_000);
    await small.set('b', answer('B'), 60_000);
    await small.set('c', answer('C'), 60_000);
    expect(await small.get('a')).toBe(answer('A'));
    await small.set('d', answer('D'), 60_000);
    expect(await small.get('b')).toBeNull();
    expect(await small.get('a')).toBe(answer('A'));
    expect(small.bytes).toBeLessThanOrEqual(3100);
    await small.set('e', 'E', 1);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(await small.get('e')).toBeNull();
  });

  it('serves an answer over its largest size without keeping it, and keeps the bytes it holds within budget', async () => {
    const budget = { maxBytes: 100_000, maxEntryBytes: 10_000 };
    const store = new MemoryResponseStore(budget);
    await store.set('large', 'x'.repeat(10_000), 60_000);
    expect(await store.get('large')).toBeNull();
    // Multi-byte text counts by its bytes, not its characters.
    await store.set('wide', '\u00e9'.repeat(6000), 60_000);
    expect(await store.get('wide')).toBeNull();
    for (let i = 0; i < 200; i++) await store.set(`key-${i}`, 'y'.repeat(5000), 60_000);
    expect(store.bytes).toBeLessThanOrEqual(budget.maxBytes);
    expect(await store.get('key-199')).not.toBeNull();

    // Through Yoga: a large answer is computed each time, a small one kept.
    const kept = new MemoryResponseStore({ maxBytes: 1_000_000, maxEntryBytes: 2048 });
    const small = await createTestApp({ seed: { issues: 2, authors: 3, articles: 30, seed: 5 }, responseCache: kept });
    try {
      await small.store.watchContent();
      const large = '{ articles(first: 30) { edges { node { slug headline body } } } }';
      const tiny = '{ issues(first: 1) { edges { node { number } } } }';
      for (const query of [large, tiny]) expect((await small.graphql(query)).errors).toBeUndefined();
      expect(await small.statementsFor(() => small.graphql(large))).toBeGreaterThan(HIT_STATEMENTS);
      expect(await small.statementsFor(() => small.graphql(tiny))).toBe(HIT_STATEMENTS);
      expect(kept.bytes).toBeLessThan(2048);
    } finally {
      await small.close();
    }
  });
});

describe('the response cache in front of Yoga, as `masthead serve` runs it', () => {
  let throwaway: ThrowawayStore;
  let writer: Store;
  let server: ServerProcess;
  /** Each test its own client address (TRUST_PROXY_HOPS=1), so their rate limits stay apart. */
  let clients = 0;
  const client = () => `198.51.100.${++clients}`;

  beforeAll(async () => {
    throwaway = await createThrowawayStore();
    writer = openStore(throwaway.location, new Metrics());
    await migrateToLatest(writer);
    await seedCorpus(writer, { issues: 6, authors: 8, articles: 60, seed: 11 });
    server = await startServerProcess({
      DATABASE_URL: throwaway.databaseUrl,
      DEMO_CONTENT: '0',
      // The senders poll their outboxes: statements of their own, between a test's two counts.
      MAIL_SENDER: 'off',
      WEBHOOK_SENDER: 'off',
      TRUST_PROXY_HOPS: '1',
      RATE_LIMIT_PER_CLIENT: '12/1m',
      MAX_BODY_BYTES: '2048',
      CORS_ORIGINS: 'https://reader.example.org',
      RESPONSE_CACHE_MAX_ENTRY_BYTES: '8192',
    });
  });
  afterAll(async () => {
    await server?.stop();
    await writer?.close();
    await throwaway?.drop();
  });

  const post = (body: string, headers: Record<string, string> = {}) =>
    rawRequest(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

  async function storeQueriesTotal(): Promise<number> {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    return requestStatements(text);
  }

  /** The headers that say something about the answer (not when, nor how the connection is kept, nor which request it answered). */
  const answerHeaders = (headers: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(headers).filter(([name]) => !['date', 'connection', 'keep-alive', 'transfer-encoding', 'x-request-id'].includes(name)));

  it('answers a repeated query with the same bytes and headers, and no store statement', async () => {
    const at = client();
    const body = JSON.stringify({ query: '{ articles(first: 3) { edges { node { slug headline authors { name } } } } }' });
    const miss = await post(body, { 'x-forwarded-for': at });
    expect(miss?.status).toBe(200);
    const before = await storeQueriesTotal();
    const hit = await post(body, { 'x-forwarded-for': at });
    expect(await storeQueriesTotal()).toBe(before + HIT_STATEMENTS);
    expect(hit?.text).toBe(miss?.text);
    expect(answerHeaders(hit!.headers)).toEqual(answerHeaders(miss!.headers));
    // A kept answer is the answer, not the request: each request still has an id of its own.
    expect(hit?.headers['x-request-id']).not.toBe(miss?.headers['x-request-id']);
    expect(hit?.headers['x-content-type-options']).toBe('nosniff');
    expect(JSON.parse(hit!.text)).toMatchObject({ extensions: { cost: expect.any(Object) } });

    // A GET with a query string likewise, with its own headers (cache-control for browsers and CDNs).
    const url = `${server.url}/graphql?query=${encodeURIComponent('{ issues(first: 2) { edges { node { number } } } }')}`;
    const get = () => rawRequest(url, { headers: { accept: 'application/json', 'x-forwarded-for': at } });
    const first = await get();
    const second = await get();
    expect(second?.text).toBe(first?.text);
    expect(answerHeaders(second!.headers)).toEqual(answerHeaders(first!.headers));
    expect(second?.headers['cache-control']).toMatch(/^public, max-age=/);
  });

  it('computes afresh after a write through another connection, never the answer from before it', async () => {
    const at = client();
    const body = JSON.stringify({ query: '{ articles(first: 1) { edges { node { slug headline } } } }' });
    const before = JSON.parse((await post(body, { 'x-forwarded-for': at }))!.text) as { data: { articles: { edges: { node: { slug: string } }[] } } };
    await post(body, { 'x-forwarded-for': at });
    const slug = before.data.articles.edges[0]!.node.slug;
    await writer.db.updateTable('articles').set({ headline: 'Rewritten at the desk' }).where('slug', '=', slug).execute();
    await afterWrite(async () => {
      const after = JSON.parse((await post(body, { 'x-forwarded-for': at }))!.text) as typeof before;
      expect(after.data.articles.edges[0]!.node).toEqual({ slug, headline: 'Rewritten at the desk' });
    });
  });

  it('computes afresh after `masthead import` in another process', async () => {
    const at = client();
    const body = JSON.stringify({ query: '{ author(slug: "sam-okoro") { name } }' });
    expect(JSON.parse((await post(body, { 'x-forwarded-for': at }))!.text)).toMatchObject({ data: { author: null } });
    expect(JSON.parse((await post(body, { 'x-forwarded-for': at }))!.text)).toMatchObject({ data: { author: null } });
    const imported = await runCli(['import', path.join(FIXTURES, 'good/web-only.txt')], { DATABASE_URL: throwaway.databaseUrl });
    expect(imported.code).toBe(0);
    await afterWrite(async () => {
      expect(JSON.parse((await post(body, { 'x-forwarded-for': at }))!.text)).toMatchObject({ data: { author: { name: 'Sam Okoro' } } });
    });
  });

  it('shows a scheduled piece when its time comes, though nothing was written since', async () => {
    const at = client();
    const soon = new Date(Date.now() + 1500).toISOString();
    const [piece] = await writer.db.selectFrom('articles').select(['id', 'slug']).orderBy('published_at').limit(1).execute();
    await writer.db.updateTable('articles').set({ status: 'published', published_at: soon }).where('id', '=', piece!.id).execute();
    await writer.db.updateTable('bylines').set({ status: 'published', published_at: soon }).where('article_id', '=', piece!.id).execute();
    const body = JSON.stringify({ query: '{ articles(first: 1) { edges { node { slug } } } }' });
    const newest = async () =>
      (JSON.parse((await post(body, { 'x-forwarded-for': at }))!.text) as { data: { articles: { edges: { node: { slug: string } }[] } } }).data.articles
        .edges[0]?.node.slug;
    expect(await newest()).not.toBe(piece!.slug);
    expect(await newest()).not.toBe(piece!.slug);
    await new Promise((resolve) => setTimeout(resolve, Date.parse(soon) - Date.now() + 50));
    expect(await newest()).toBe(piece!.slug);
  });

  it('serves an answer over RESPONSE_CACHE_MAX_ENTRY_BYTES each time, computed, and never keeps it', async () => {
    const at = client();
    const body = JSON.stringify({ query: '{ articles(first: 40) { edges { node { slug headline body } } } }' });
    const first = await post(body, { 'x-forwarded-for': at });
    expect(first?.status).toBe(200);
    expect(first!.text.length).toBeGreaterThan(8192);
    const before = await storeQueriesTotal();
    const again = await post(body, { 'x-forwarded-for': at });
    expect(again?.text).toBe(first?.text);
    expect((await storeQueriesTotal()) - before).toBeGreaterThan(HIT_STATEMENTS);
  });

  it('leaves requests with credentials, a dry run or an Origin to Yoga', async () => {
    const at = client();
    const body = JSON.stringify({ query: '{ latestIssue { number } }' });
    await post(body, { 'x-forwarded-for': at });
    const cached = await post(body, { 'x-forwarded-for': at });
    expect(cached?.status).toBe(200);
    const signedIn = await post(body, { 'x-forwarded-for': at, authorization: 'Bearer mh_not_a_key' });
    expect(signedIn?.status).toBe(401);
    const dryRun = await post(body, { 'x-forwarded-for': at, 'x-masthead-dry-run': '1' });
    expect(JSON.parse(dryRun!.text)).toMatchObject({ extensions: { dryRun: true } });
    expect(JSON.parse(dryRun!.text).data).toBeUndefined();
    const browser = await post(body, { 'x-forwarded-for': at, origin: 'https://reader.example.org' });
    expect(browser?.headers['access-control-allow-origin']).toBe('https://reader.example.org');
    expect(browser?.text).toBe(cached?.text);
  });

  it('keeps the per-client rate limit on cached answers: 429 with Retry-After, as Yoga sends it', async () => {
    const at = client();
    const body = JSON.stringify({ query: '{ newsletters { slug } }' });
    const statuses: number[] = [];
    let refused: Awaited<ReturnType<typeof post>> = null;
    for (let i = 0; i < 15; i++) {
      const response = await post(body, { 'x-forwarded-for': at });
      statuses.push(response!.status);
      if (response!.status === 429) refused ??= response;
    }
    expect(statuses.filter((status) => status === 200)).toHaveLength(12);
    expect(statuses.slice(12)).toEqual([429, 429, 429]);
    // Yoga's own refusal, for a request the listener does not answer from kept answers (another body: a miss).
    const fromYoga = await post(JSON.stringify({ query: '{ newsletters { name } }' }), { 'x-forwarded-for': at });
    expect(fromYoga?.status).toBe(429);
    expect(refused?.text).toBe(fromYoga?.text);
    expect(answerHeaders(refused!.headers)).toEqual(answerHeaders(fromYoga!.headers));
    expect(Number(refused?.headers['retry-after'])).toBeGreaterThan(0);
  });

  it.each([
    ['a body that is not JSON', '{"query": ', 400],
    ['a JSON body without a query', '{"variables": {}}', 400],
    ['a query that does not parse', '{"query": "{ latestIssue { "}', 400],
    ['a body over MAX_BODY_BYTES', JSON.stringify({ query: `{ latestIssue { number } } # ${'x'.repeat(3000)}` }), 413],
  ])("answers %s with Yoga's 4xx, each time", async (_name, body, status) => {
    const at = client();
    for (let i = 0; i < 2; i++) {
      const response = await post(body, { 'x-forwarded-for': at });
      expect(response?.status).toBe(status);
      expect((JSON.parse(response!.text) as { errors: unknown[] }).errors).toHaveLength(1);
    }
  });

  it('computes every request with RESPONSE_CACHE=off', async () => {
    const off = await startServerProcess({
      DATABASE_URL: throwaway.databaseUrl,
      DEMO_CONTENT: '0',
      MAIL_SENDER: 'off',
      WEBHOOK_SENDER: 'off',
      RESPONSE_CACHE: 'off',
    });
    try {
      const total = async () => requestStatements(await (await fetch(`${off.url}/metrics`)).text());
      const body = JSON.stringify({ query: '{ articles(first: 2) { edges { node { slug authors { name } } } } }' });
      const counts: number[] = [];
      for (let i = 0; i < 3; i++) {
        const before = await total();
        const response = await rawRequest(`${off.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        expect(response?.status).toBe(200);
        counts.push((await total()) - before);
      }
      expect(counts).toEqual([2, 2, 2]);
    } finally {
      await off.stop();
    }
  });

  it('refuses a RESPONSE_CACHE_MAX_BYTES that is not a number of bytes in one line, exit 2', async () => {
    const result = await runCli(['serve'], { DATABASE_URL: throwaway.databaseUrl, RESPONSE_CACHE_MAX_BYTES: '64MB' });
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^masthead: RESPONSE_CACHE_MAX_BYTES must be a whole number/);
  });

  it('refuses a RESPONSE_CACHE that is neither on nor off in one line, exit 2', async () => {
    const result = await runCli(['serve'], { DATABASE_URL: throwaway.databaseUrl, RESPONSE_CACHE: 'memory' });
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^masthead: RESPONSE_CACHE must be on or off/);
  });
});

const redisUp = await redisAnswers();
if (!redisUp && process.env.CI) throw new Error(`Redis does not answer at ${REDIS_URL}`);

describe.runIf(redisUp)('the response cache in Redis (REDIS_URL)', () => {
  // Keys unique to this run, so runs side by side never share answers.
  const prefix = `masthead-test:${randomBytes(6).toString('hex')}:`;

  it('shares answers between instances, each for its time', async () => {
    const first = new RedisResponseStore(REDIS_URL, silentLogger, prefix);
    const second = new RedisResponseStore(REDIS_URL, silentLogger, prefix);
    try {
      expect(await first.ready()).toBe(true);
      expect(await second.ready()).toBe(true);
      await first.set('k', '{"data":{}}', 60_000);
      expect(await second.get('k')).toBe('{"data":{}}');
      await first.set('brief', 'x', 50);
      await new Promise((resolve) => setTimeout(resolve, 120));
      expect(await second.get('brief')).toBeNull();
    } finally {
      await first.close();
      await second.close();
    }
  });

  it('keeps the bytes of a deployment within its budget across instances, and no answer over its largest size', async () => {
    const budget = { maxBytes: 100_000, maxEntryBytes: 20_000 };
    const own = `${prefix}budget:`;
    const first = new RedisResponseStore(REDIS_URL, silentLogger, own, budget);
    const second = new RedisResponseStore(REDIS_URL, silentLogger, own, budget);
    const redis = new Redis(REDIS_URL);
    try {
      expect(await first.ready()).toBe(true);
      expect(await second.ready()).toBe(true);
      await first.set('large', 'x'.repeat(20_000), 60_000);
      expect(await second.get('large')).toBeNull();
      for (let i = 0; i < 30; i++) await (i % 2 ? first : second).set(`k${i}`, 'y'.repeat(9000), 60_000 + i);
      const keys = (await redis.keys(`${own}k*`)).sort();
      const held = (await Promise.all(keys.map((key) => redis.strlen(key)))).reduce((sum, n) => sum + n, 0);
      expect(held).toBeLessThanOrEqual(budget.maxBytes);
      expect(await first.bytes()).toBeLessThanOrEqual(budget.maxBytes);
      expect(keys.length).toBeGreaterThanOrEqual(9);
      // The soonest to expire went first; the newest is kept.
      expect(await second.get('k29')).toBe('y'.repeat(9000));
      expect(await second.get('k0')).toBeNull();
    } finally {
      const keys = await redis.keys(`${own}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
      await first.close();
      await second.close();
    }
  });

  it('keeps two deployments with the same REDIS_PREFIX apart by their stores: answers and rate limits', async () => {
    const shared = `masthead-test:${randomBytes(6).toString('hex')}:`;
    const stores: ThrowawayStore[] = [];
    const servers: ServerProcess[] = [];
    const redis = new Redis(REDIS_URL);
    try {
      // Two stores whose content version is the same (one write each) and whose content is not.
      const identities = await Promise.all(
        ['alpha-daily', 'beta-weekly'].map(async (slug, i) => {
          const throwaway = await createThrowawayStore();
          stores[i] = throwaway;
          const store = openStore(throwaway.location, new Metrics());
          await migrateToLatest(store);
          await store.db.insertInto('newsletters').values({ slug, name: slug, description: null }).execute();
          const { id } = await store.db.selectFrom('store_identity').select('id').executeTakeFirstOrThrow();
          await store.close();
          const env = {
            DATABASE_URL: throwaway.databaseUrl,
            DEMO_CONTENT: '0',
            MAIL_SENDER: 'off',
            REDIS_URL,
            REDIS_PREFIX: shared,
            RATE_LIMIT_PER_CLIENT: '3/1m',
          };
          servers[i] = await startServerProcess(env);
          return id;
        }),
      );
      expect(identities[0]).not.toBe(identities[1]);
      const body = JSON.stringify({ query: '{ newsletters { slug } }' });
      const ask = async (server: ServerProcess) => {
        const response = await rawRequest(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        return response!.status === 200
          ? (JSON.parse(response!.text) as { data: { newsletters: { slug: string }[] } }).data.newsletters[0]?.slug
          : response!.status;
      };
      const [staging, production] = servers as [ServerProcess, ServerProcess];
      expect([await ask(staging), await ask(staging)]).toEqual(['alpha-daily', 'alpha-daily']);
      expect(await ask(production)).toBe('beta-weekly');
      expect([await ask(staging), await ask(staging)]).toEqual(['alpha-daily', 429]);
      expect([await ask(production), await ask(production)]).toEqual(['beta-weekly', 'beta-weekly']);
      const keys = await redis.keys(`${shared}*`);
      expect(keys.some((key) => key.startsWith(`${shared}${identities[0]}:rate:`))).toBe(true);
      expect(keys.some((key) => key.startsWith(`${shared}${identities[1]}:response:`))).toBe(true);
      expect(keys.every((key) => identities.some((identity) => key.startsWith(`${shared}${identity}:`)))).toBe(true);
    } finally {
      await Promise.all(servers.map((server) => server?.stop()));
      await Promise.all(stores.map((throwaway) => throwaway?.drop()));
      const keys = await redis.keys(`${shared}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    }
  }, 90_000);

  it.each([
    ['a closed port', async () => ({ url: 'redis://127.0.0.1:1', close: async () => {} })],
    ['a socket that never answers', listenSilently],
  ])('computes every answer at once, and says so, while Redis is %s', async (_name, open) => {
    const down = await open();
    const warnings: unknown[][] = [];
    const logger = { ...silentLogger, warn: (...args: unknown[]) => void warnings.push(args) };
    const unreachable = new RedisResponseStore(down.url, logger, prefix);
    try {
      const started = performance.now();
      for (let i = 0; i < 5; i++) {
        await unreachable.set('k', 'v', 1000);
        expect(await unreachable.get('k')).toBeNull();
      }
      // Generous: each call waiting on Redis would take its connect or command timeout.
      expect(performance.now() - started).toBeLessThan(200);
      expect(String(warnings[0]?.[0])).toMatch(/Redis is unreachable; responses are not cached/);
    } finally {
      await unreachable.close();
      await down.close();
    }
  });
});
