import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseStoreLocation } from '../src/config.ts';
import { MemoryResponseStore, RedisResponseStore } from '../src/http/response-cache.ts';
import { importDocuments } from '../src/importer/import-documents.ts';
import { Metrics } from '../src/metrics.ts';
import { openStore, type Store } from '../src/store/store.ts';
import { createTestApp, silentLogger, type TestApp } from './support/app.ts';
import { REDIS_URL, redisAnswers } from './support/redis.ts';

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
    expect(again.statements).toBe(1);
    expect(again.body).toEqual(first.body);
  });

  it('keeps answers apart by their variables', async () => {
    const query = 'query Q($n: Int) { articles(first: $n) { edges { node { slug } } } }';
    const two = await answer(query, { n: 2 });
    const three = await answer(query, { n: 3 });
    expect((three.body as { articles: { edges: unknown[] } }).articles.edges).toHaveLength(3);
    expect((two.body as { articles: { edges: unknown[] } }).articles.edges).toHaveLength(2);
  });

  it('shows a write made through another connection at once, never the answer from before it', async () => {
    const before = (await answer(NEWEST)).body as { articles: { edges: { node: { slug: string; headline: string } }[] } };
    const newest = before.articles.edges[0]!.node;
    await other.db.updateTable('articles').set({ headline: 'Rewritten by an editor' }).where('slug', '=', newest.slug).execute();
    const after = (await answer(NEWEST)).body as typeof before;
    expect(after.articles.edges[0]!.node.headline).toBe('Rewritten by an editor');
  });

  it('shows a piece that an import in another process adds, where a cached answer said there was none', async () => {
    const query = '{ author(slug: "sam-okoro") { name articles(first: 5) { edges { node { headline } } } } }';
    expect((await answer(query)).body).toEqual({ author: null });
    expect((await answer(query)).statements).toBe(1);
    const report = await importDocuments(other, [path.join(FIXTURES, 'good/web-only.txt')]);
    expect(report.created).toBe(1);
    expect((await answer(query)).body).toEqual({
      author: { name: 'Sam Okoro', articles: { edges: [{ node: { headline: 'Live: climate march reaches the square' } }] } },
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
    expect((await answer(query)).statements).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, Date.parse(soon) - Date.now() + 50));
    const later = (await answer(query)).body as typeof early;
    expect(later.articles.edges[0]?.node.slug).toBe(piece!.slug);
  });

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

  it('forgets the least recently used answer past its size, and every answer past its time', async () => {
    const small = new MemoryResponseStore(2);
    await small.set('a', 'A', 60_000);
    await small.set('b', 'B', 60_000);
    expect(await small.get('a')).toBe('A');
    await small.set('c', 'C', 60_000);
    expect(await small.get('b')).toBeNull();
    expect(await small.get('a')).toBe('A');
    await small.set('d', 'D', 1);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(await small.get('d')).toBeNull();
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

  it('computes every answer, and says so, while Redis cannot be reached', async () => {
    const warnings: unknown[][] = [];
    const logger = { ...silentLogger, warn: (...args: unknown[]) => void warnings.push(args) };
    const unreachable = new RedisResponseStore('redis://127.0.0.1:1', logger, prefix);
    try {
      await unreachable.set('k', 'v', 1000);
      expect(await unreachable.get('k')).toBeNull();
      expect(String(warnings[0]?.[0])).toMatch(/Redis is unreachable; responses are not cached/);
    } finally {
      await unreachable.close();
    }
  });
});
