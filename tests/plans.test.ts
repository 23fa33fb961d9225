import { CompiledQuery, type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../src/store/database.ts';
import { AuthorDashboardDocument, IssuePageDocument, SearchDocument } from './generated/graphql.ts';
import { createTestApp, type TestApp } from './support/app.ts';
import { Metrics } from '../src/metrics.ts';
import { seedCorpus } from '../src/seed/seed.ts';
import { findIssuesByNumbers, listIssues } from '../src/store/issue.repository.ts';
import { migrateToLatest } from '../src/store/migrate.ts';
import { DEFAULT_STORE_OPTIONS, openStore, type Store } from '../src/store/store.ts';
import { createThrowawayStore, testDialect } from './support/store.ts';

// Every statement that the canonical queries send is explained by the store itself; a full
// scan of a large table (articles, bylines) fails the test. On PostgreSQL, sequential scans are
// disabled for the explain: if a sequential scan still appears, no index can serve the query.

const LARGE_TABLES = ['articles', 'bylines'];
let app: TestApp;
let recording: CompiledQuery[] | null = null;

beforeAll(async () => {
  app = await createTestApp({
    seed: { issues: 40, authors: 150, articles: 6000, seed: 3 },
    onStatement: (query) => recording?.push(query),
  });
});
afterAll(async () => {
  await app?.close();
});

async function statementsOf(run: () => Promise<unknown>): Promise<CompiledQuery[]> {
  recording = [];
  try {
    await run();
    return recording;
  } finally {
    recording = null;
  }
}

/** A node of a PostgreSQL plan, as `explain (format json)` gives it. */
type PlanNode = Record<string, unknown>;
/** A row of `explain (format json)`. */
type ExplainRow = { 'QUERY PLAN': Array<{ Plan: PlanNode }> };

/** Every node of a PostgreSQL plan, from `explain (format json)`'s rows. */
function planNodes(rows: readonly ExplainRow[]): PlanNode[] {
  const nodes: PlanNode[] = [];
  const walk = (node: PlanNode) => {
    nodes.push(node);
    for (const child of (node.Plans as PlanNode[] | undefined) ?? []) walk(child);
  };
  const root = rows[0]?.['QUERY PLAN'][0];
  if (root) walk(root.Plan);
  return nodes;
}

async function fullScans(db: Kysely<Database>, query: CompiledQuery): Promise<string[]> {
  if (testDialect === 'sqlite') {
    const plan = await db.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${query.sql}`, [...query.parameters]));
    return plan.rows.map((row) => row.detail).filter((detail) => LARGE_TABLES.some((table) => new RegExp(`^SCAN ${table}\\b`).test(detail)));
  }
  return db.transaction().execute(async (trx) => {
    await sql`set local enable_seqscan = off`.execute(trx);
    const plan = await trx.executeQuery<ExplainRow>(CompiledQuery.raw(`explain (format json) ${query.sql}`, [...query.parameters]));
    return planNodes(plan.rows)
      .filter((node) => node['Node Type'] === 'Seq Scan' && LARGE_TABLES.includes(String(node['Relation Name'])))
      .map((node) => `Seq Scan on ${String(node['Relation Name'])}`);
  });
}

/** PostgreSQL only: how many rows the executed plan read and threw away (filters, not index bounds). */
async function rowsDiscarded(db: Kysely<Database>, query: CompiledQuery): Promise<number> {
  const plan = await db.executeQuery<ExplainRow>(CompiledQuery.raw(`explain (analyze, format json) ${query.sql}`, [...query.parameters]));
  return planNodes(plan.rows).reduce(
    (discarded, node) => discarded + Number(node['Rows Removed by Filter'] ?? 0) + Number(node['Rows Removed by Index Recheck'] ?? 0),
    0,
  );
}

async function expectIndexBacked(run: () => Promise<{ errors?: unknown }>) {
  const statements = await statementsOf(async () => {
    const result = await run();
    expect(result.errors).toBeUndefined();
  });
  expect(statements.length).toBeGreaterThan(0);
  const problems: string[] = [];
  for (const statement of statements) {
    for (const scan of await fullScans(app.store.db, statement)) problems.push(`${scan}\n    in: ${statement.sql}`);
  }
  expect(problems).toEqual([]);
}

describe('the canonical access paths read indexes, not whole tables', () => {
  it('(the check itself sees a full scan when there is one)', async () => {
    const placeholder = testDialect === 'sqlite' ? '?' : '$1';
    const scans = await fullScans(app.store.db, CompiledQuery.raw(`select id from articles where word_count > ${placeholder}`, [5]));
    expect(scans.length).toBeGreaterThan(0);
  });

  it('an issue page of 50 with bylines', async () => {
    await expectIndexBacked(() => app.execute(IssuePageDocument, { number: 1020, first: 50 }));
  });

  it('an author dashboard, and authors by each order', async () => {
    const { data } = await app.graphql<{ authors: { edges: { node: { slug: string } }[] } }>(
      '{ authors(first: 1, orderBy: ARTICLE_COUNT_DESC) { edges { node { slug } } } }',
    );
    const slug = data?.authors.edges[0]?.node.slug ?? '';
    await expectIndexBacked(() => app.execute(AuthorDashboardDocument, { slug }));
    for (const orderBy of ['NAME_ASC', 'ARTICLE_COUNT_DESC', 'LAST_PUBLISHED_DESC']) {
      await expectIndexBacked(() =>
        app.graphql('query A($o: AuthorOrder) { authors(first: 20, orderBy: $o) { totalCount edges { node { name articleCount } } } }', { o: orderBy }),
      );
    }
  });

  it('articles by date, a deep page, and the filters', async () => {
    const query = `query P($after: String, $filter: ArticleFilter, $orderBy: ArticleOrder) {
      articles(first: 50, after: $after, filter: $filter, orderBy: $orderBy) {
        totalCount pageInfo { endCursor } edges { node { headline authors { name } issue { number } } }
      } }`;
    await expectIndexBacked(() => app.graphql(query));
    await expectIndexBacked(() => app.graphql(query, { orderBy: 'PUBLISHED_AT_ASC' }));
    let after: string | null = null;
    for (let page = 0; page < 20; page++) {
      const { data }: { data?: { articles: { pageInfo: { endCursor: string } } } } = await app.graphql(query, { after });
      after = data?.articles.pageInfo.endCursor ?? null;
    }
    await expectIndexBacked(() => app.graphql(query, { after }));
    if (testDialect === 'postgres') {
      // A deep page seeks to its cursor: the store reads about a page of rows, not all before it.
      const statements = await statementsOf(() => app.graphql(query, { after }));
      const page = statements.find((s) => /order by/i.test(s.sql) && /limit/i.test(s.sql));
      expect(page).toBeDefined();
      expect(await rowsDiscarded(app.store.db, page as CompiledQuery)).toBeLessThan(100);
    }
    await expectIndexBacked(() => app.graphql(query, { filter: { issueNumber: 1010 } }));
    await expectIndexBacked(() => app.graphql(query, { filter: { authorSlug: 'aisha-adeyemi' } }));
    await expectIndexBacked(() => app.graphql(query, { filter: { publishedAfter: '2026-06-01T00:00:00Z', publishedBefore: '2026-07-01T00:00:00Z' } }));
  });

  it('issues, the latest issue, search and node lookups', async () => {
    await expectIndexBacked(() =>
      app.graphql('{ latestIssue { number articleCount contributors { name } } issues(first: 20) { totalCount edges { node { number articleCount } } } }'),
    );
    await expectIndexBacked(() => app.execute(SearchDocument, { query: 'pensioners hospital closures', first: 10 }));
    const { data } = await app.graphql<{ articles: { edges: { node: { id: string } }[] } }>('{ articles(first: 5) { edges { node { id } } } }');
    const ids = data?.articles.edges.map((e) => e.node.id) ?? [];
    await expectIndexBacked(() => app.graphql(`{ ${ids.map((id, i) => `n${i}: node(id: "${id}") { id ... on Article { headline } }`).join(' ')} }`));
  });
});

// Kysely's statements are unnamed, so PostgreSQL parses and plans each on every run: a page per
// parent's plan took longer than its run. Compiled statements are named, so each connection
// prepares them once.
describe.runIf(testDialect === 'postgres')('compiled statements on PostgreSQL', () => {
  /** A small seeded store on one connection, so that what a connection keeps is seen. */
  async function withSeededStore(work: (store: Store) => Promise<void>): Promise<void> {
    const throwaway = await createThrowawayStore();
    const store = openStore(throwaway.location, new Metrics(), { ...DEFAULT_STORE_OPTIONS, poolSize: 1 });
    try {
      await migrateToLatest(store);
      await seedCorpus(store, { issues: 2, authors: 2, articles: 6, seed: 1 });
      await work(store);
    } finally {
      await store.close();
      await throwaway.drop();
    }
  }

  it('are prepared once on a connection and run again by name, with the values of each run', async () => {
    await withSeededStore(async (store) => {
      const now = new Date().toISOString();
      const numbers = (await listIssues(store.db, { now, limit: 2, after: null })).map((issue) => issue.node.number);
      expect(numbers).toHaveLength(2);
      const found = [];
      for (const number of numbers) found.push((await findIssuesByNumbers(store.db, [number], now)).map((issue) => issue.number));
      expect(found).toEqual(numbers.map((number) => [number]));
      const { rows } = await sql<{ name: string; statement: string }>`select name, statement from pg_prepared_statements`.execute(store.db);
      const named = rows.filter((row) => row.statement.includes('"issues"'));
      expect(named).toHaveLength(1);
      expect(named[0]?.name).toMatch(/^masthead_\d+$/);
    });
  });

  // A plan kept on a connection (a named statement's generic plan; a foreign-key check's) is made
  // for the table as the statistics describe it. Had the seed vacuumed or analysed the tables it
  // leaves empty, they would be described as empty for good (where autovacuum is off), and every
  // sign-up would read every sign-up and every queued message.
  it('kept for the tables a seed leaves empty, read those tables by their keys', async () => {
    await withSeededStore(async (store) => {
      const kept = {
        // What PostgreSQL runs to check a consent's or a message's sign-up.
        'a foreign-key check': 'select 1 from only subscriptions x where id = $1 for key share of x',
        'the pending-message check': `select id from outbox where subscription_id = $1 and status = 'pending'`,
      };
      const scans = await store.db.transaction().execute(async (trx) => {
        await sql`set local plan_cache_mode = force_generic_plan`.execute(trx);
        const found: Record<string, string[]> = {};
        for (const [name, statement] of Object.entries(kept)) {
          await sql.raw(`prepare kept_plan as ${statement}`).execute(trx);
          const plan = await sql<ExplainRow>`explain (format json) execute kept_plan(1)`.execute(trx);
          await sql`deallocate kept_plan`.execute(trx);
          found[name] = planNodes(plan.rows)
            .filter((node) => node['Relation Name'] !== undefined)
            .map((node) => String(node['Node Type']));
        }
        return found;
      });
      expect(scans).toEqual({
        'a foreign-key check': ['Index Scan'],
        'the pending-message check': ['Index Scan'],
      });
    });
  });
});
