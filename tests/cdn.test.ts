import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { purgeKeys } from '../src/feed/cache-keys.ts';
import { Metrics } from '../src/metrics.ts';
import { seedCorpus } from '../src/seed/seed.ts';
import { migrateToLatest } from '../src/store/migrate.ts';
import { openStore, type Store } from '../src/store/store.ts';
import { type RunningServer, startServer } from '../src/server.ts';
import { silentLogger } from './support/app.ts';
import { rawRequest } from './support/raw-http.ts';
import { createThrowawayStore, testDialect, type ThrowawayStore } from './support/store.ts';
import { requestStatements } from './support/answers.ts';

let throwaway: ThrowawayStore;
let writer: Store;
let server: RunningServer;

async function serve(env: Record<string, string> = {}): Promise<RunningServer> {
  const config = loadConfig({ DATABASE_URL: throwaway.databaseUrl, DEMO_CONTENT: '0', MAIL_SENDER: 'off', PORT: '0', LOG_LEVEL: 'silent', ...env });
  return startServer(config, silentLogger);
}

beforeAll(async () => {
  throwaway = await createThrowawayStore();
  writer = openStore(throwaway.location, new Metrics());
  await migrateToLatest(writer);
  await seedCorpus(writer, { issues: 4, authors: 6, articles: 30, seed: 8 });
  server = await serve();
});
afterAll(async () => {
  await server?.close();
  await writer?.close();
  await throwaway?.drop();
});

const get = (query: string, headers: Record<string, string> = {}, on = server) =>
  rawRequest(`${on.url}/graphql?query=${encodeURIComponent(query)}`, { headers: { accept: 'application/json', ...headers } });

async function statements(on = server): Promise<number> {
  const text = await (await fetch(`${on.url}/metrics`)).text();
  return requestStatements(text);
}

const keysOf = (headers: Record<string, unknown>) =>
  String(headers['surrogate-key'] ?? '')
    .split(' ')
    .filter(Boolean);

describe('answers for CDNs', () => {
  it('carry an ETag and the keys of every piece, issue, author and list in them, as Surrogate-Key and Cache-Tag', async () => {
    const piece = await writer.db
      .selectFrom('articles')
      .select(['id', 'slug', 'issue_id'])
      .where('issue_id', 'is not', null)
      .orderBy('id')
      .executeTakeFirstOrThrow();
    const authors = await writer.db.selectFrom('bylines').select('author_id').where('article_id', '=', piece.id).execute();
    const answer = await get(`{ article(slug: "${piece.slug}") { headline issue { number } authors { name } } }`);
    expect(answer?.status).toBe(200);
    expect(answer?.headers.etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
    const keys = keysOf(answer!.headers);
    expect(keys.sort()).toEqual([`article-${piece.id}`, `issue-${piece.issue_id}`, ...authors.map((a) => `author-${a.author_id}`)].sort());
    expect(answer?.headers['cache-tag']).toBe(keys.join(','));

    const lists = await get(
      '{ articles(first: 2) { totalCount } search(query: "the") { totalCount } issues(first: 1) { edges { node { number articles(first: 1) { totalCount } } } } }',
    );
    const issue = JSON.parse(lists!.text).data.issues.edges[0].node.number as number;
    const issueId = (await writer.db.selectFrom('issues').select('id').where('number', '=', issue).executeTakeFirstOrThrow()).id;
    expect(keysOf(lists!.headers)).toEqual(expect.arrayContaining(['articles', 'search', 'issues', `issue-${issueId}`, `issue-${issueId}-articles`]));
  });

  it('answer If-None-Match with 304 from kept answers, without executing and without a statement', async () => {
    const query = '{ articles(first: 5) { edges { node { slug headline } } } }';
    const first = await get(query);
    const etag = String(first?.headers.etag);
    await get(query);
    const before = await statements();
    const revalidated = await get(query, { 'if-none-match': etag });
    const weak = await get(query, { 'if-none-match': `"other", W/${etag}` });
    expect(await statements()).toBe(before);
    expect(revalidated?.status).toBe(304);
    expect(revalidated?.text).toBe('');
    expect(revalidated?.headers.etag).toBe(etag);
    expect(revalidated?.headers['surrogate-key']).toBe(first?.headers['surrogate-key']);
    expect(weak?.status).toBe(304);
    const changed = await get(query, { 'if-none-match': '"something-else"' });
    expect(changed?.status).toBe(200);
    expect(changed?.text).toBe(first?.text);
  });

  it('give POST answers, signed-in answers and errors no ETag and no keys', async () => {
    const post = await rawRequest(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ articles(first: 1) { totalCount } }' }),
    });
    expect(post?.headers.etag).toBeUndefined();
    expect(post?.headers['surrogate-key']).toBeUndefined();
    const failing = await get('{ articles(first: 1000) { totalCount } }');
    expect(failing?.headers['surrogate-key']).toBeUndefined();
    expect(failing?.headers.etag).toBeUndefined();
  });

  it('fall back to their types keys past the header cap', async () => {
    const capped = await serve({ CACHE_KEY_HEADER_MAX_BYTES: '256' });
    try {
      const answer = await get('{ articles(first: 30) { edges { node { headline authors { name } issue { number } } } } }', {}, capped);
      expect(keysOf(answer!.headers).sort()).toEqual(['articles', 'type-Article', 'type-Author', 'type-Issue']);
      const issue = await writer.db.selectFrom('issues').select('number').orderBy('number').executeTakeFirstOrThrow();
      const small = await get(`{ issue(number: ${issue.number}) { number } }`, {}, capped);
      expect(keysOf(small!.headers)).toEqual([expect.stringMatching(/^issue-\d+$/)]);
    } finally {
      await capped.close();
    }
  });
});

/** Queries a site would put behind a CDN: pieces, lists, issues, authors, search, lookups. */
async function sampleQueries(): Promise<string[]> {
  const pieces = await writer.db.selectFrom('articles').select(['slug']).orderBy('id').limit(6).execute();
  const authors = await writer.db.selectFrom('authors').select('slug').orderBy('id').execute();
  const issues = await writer.db.selectFrom('issues').select('number').orderBy('number').execute();
  return [
    ...pieces.map((p) => `{ article(slug: "${p.slug}") { headline standfirst publishedAt issue { number } authors { name } } }`),
    ...authors.map((a) => `{ author(slug: "${a.slug}") { name articleCount lastPublishedAt articles(first: 3) { edges { node { headline } } } } }`),
    ...issues.map((i) => `{ issue(number: ${i.number}) { number articleCount articles(first: 20) { edges { node { slug headline } } } } }`),
    '{ articles(first: 10) { totalCount edges { node { slug headline } } } }',
    '{ issues(first: 10) { edges { node { number articleCount } } } }',
    '{ latestIssue { number } }',
    '{ authors(first: 10, orderBy: ARTICLE_COUNT_DESC) { edges { node { name articleCount } } } }',
    '{ search(query: "the") { totalCount edges { node { slug } } } }',
    '{ article(slug: "not-yet-a-piece") { headline } }',
    '{ newsletters { slug } }',
  ];
}

describe('purges', () => {
  it('name, for a sample of changes, every cached answer that changed; answers no purged key names stay byte-identical', async () => {
    const queries = await sampleQueries();
    const snapshot = async () =>
      Promise.all(
        queries.map(async (query) => {
          const answer = await get(query);
          expect(answer?.status, query).toBe(200);
          return { text: answer!.text, keys: keysOf(answer!.headers) };
        }),
      );
    const piece = async (index: number) => {
      const row = await writer.db.selectFrom('articles').select(['id', 'issue_id', 'slug']).orderBy('id').offset(index).limit(1).executeTakeFirstOrThrow();
      const authors = await writer.db.selectFrom('bylines').select('author_id').where('article_id', '=', row.id).execute();
      return { ...row, authorIds: authors.map((a) => a.author_id) };
    };
    const otherIssue = async (issueId: number | null) =>
      (
        await writer.db
          .selectFrom('issues')
          .select('id')
          .where('id', '<>', issueId ?? 0)
          .orderBy('id')
          .executeTakeFirstOrThrow()
      ).id;

    // Each change made through another connection (as `masthead import` or an editor at the SQL
    // prompt would); the change feed's triggers record it, and its entries name what to purge.
    const changes: Array<{ name: string; make: () => Promise<void> }> = [
      {
        name: 'a headline edited',
        make: async () => {
          const p = await piece(2);
          await writer.db.updateTable('articles').set({ headline: 'A headline, edited' }).where('id', '=', p.id).execute();
        },
      },
      {
        name: 'a piece withdrawn',
        make: async () => {
          const p = await piece(4);
          await writer.db.updateTable('articles').set({ status: 'draft' }).where('id', '=', p.id).execute();
        },
      },
      {
        name: 'a piece moved to another issue',
        make: async () => {
          const p = await piece(7);
          await writer.db
            .updateTable('articles')
            .set({ issue_id: await otherIssue(p.issue_id) })
            .where('id', '=', p.id)
            .execute();
        },
      },
      {
        name: 'a withdrawn piece published again',
        make: async () => {
          const p = await piece(4);
          await writer.db.updateTable('articles').set({ status: 'published' }).where('id', '=', p.id).execute();
        },
      },
    ];
    let seen = await server.feed.latestSeq();
    let before = await snapshot();
    let purgedSomething = 0;
    let keptSomething = 0;
    for (const change of changes) {
      await change.make();
      let entries = await server.feed.readAfter(seen, 100);
      for (let waited = 0; entries.length === 0 && waited < 3000; waited += 50) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        entries = await server.feed.readAfter(seen, 100);
      }
      expect(entries.length, change.name).toBeGreaterThan(0);
      seen = entries.at(-1)?.seq ?? seen;
      const purged = new Set(entries.flatMap(purgeKeys));
      // The server sees the write at once on SQLite, by NOTIFY on PostgreSQL.
      let after = await snapshot();
      if (testDialect === 'postgres') {
        const deadline = Date.now() + 3000;
        while (after.every((a, i) => a.text === before[i]?.text) && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          after = await snapshot();
        }
      }
      queries.forEach((query, i) => {
        const old = before[i];
        const now = after[i];
        if (!old || !now) throw new Error('missing answer');
        const named = old.keys.some((key) => purged.has(key));
        if (named) purgedSomething++;
        else keptSomething++;
        if (old.text !== now.text) expect(named, `${change.name}: ${query} changed and no purged key names it (${old.keys.join(' ')})`).toBe(true);
        if (!named) expect(now.text, `${change.name}: ${query}`).toBe(old.text);
      });
      before = after;
    }
    // The sample is worth something: some answers purged, some kept, by each change on average.
    expect(purgedSomething).toBeGreaterThan(0);
    expect(keptSomething).toBeGreaterThan(changes.length);
  });
});
