import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { createTestApp, silentLogger, type TestApp } from './support/app.ts';

// SQLite refuses a compound SELECT of more than 500 terms, and both stores bound the parameters
// of one statement: a request with thousands of parents must still be answered, on both stores.

const PARENTS = 2000;
const PAGE = 100;

let app: TestApp;

beforeAll(async () => {
  app = await createTestApp({
    seed: { issues: PARENTS + 100, authors: PARENTS + 100, articles: 12_000, seed: 3 },
    config: { limits: { ...loadConfig({}).limits, maxCost: 1_000_000, maxTokens: 100_000 } },
  });
});
afterAll(async () => {
  await app?.close();
});

/** The cursors that start each page of `PAGE` items of a connection, read by paging through it. */
async function pageStarts(connection: 'authors' | 'issues'): Promise<Array<string | null>> {
  const starts: Array<string | null> = [null];
  for (;;) {
    const after = starts.at(-1) ?? null;
    const { data, errors } = await app.graphql<{ page: { pageInfo: { endCursor: string | null; hasNextPage: boolean } } }>(
      `query P($after: String) { page: ${connection}(first: ${PAGE}, after: $after) { pageInfo { endCursor hasNextPage } } }`,
      { after },
    );
    expect(errors).toBeUndefined();
    if (!data?.page.pageInfo.hasNextPage || starts.length * PAGE >= PARENTS) return starts;
    starts.push(data.page.pageInfo.endCursor);
  }
}

/** One query of aliased pages of `connection` that together hold `PARENTS` parents, each with `fields`. */
async function everyPageAtOnce(connection: 'authors' | 'issues', fields: string): Promise<string> {
  const starts = await pageStarts(connection);
  expect(starts.length * PAGE).toBe(PARENTS);
  const pages = starts.map((after, i) => `p${i}: ${connection}(first: ${PAGE}${after === null ? '' : `, after: "${after}"`}) { edges { node { ${fields} } } }`);
  return `{ ${pages.join('\n')} }`;
}

const run = (query: string) => app.graphql<Record<string, { edges: Array<{ node: Record<string, unknown> }> }>>(query);

describe('a request with thousands of parents', () => {
  it(`answers a page of articles for each of ${PARENTS} authors`, async () => {
    const response = await run(
      await everyPageAtOnce('authors', 'id articleCount articles(first: 1) { totalCount edges { node { headline authors { name } issue { number } } } }'),
    );
    expect(response.errors, String(silentLogger.errors.flat().map(String))).toBeUndefined();
    expect(response.status).toBe(200);
    const authors = Object.values(response.data ?? {}).flatMap((page) => page.edges.map((edge) => edge.node));
    expect(new Set(authors.map((author) => author.id)).size).toBe(PARENTS);
    // Every author listed has a public piece, so every one of their pages holds one.
    for (const author of authors) expect((author.articles as { edges: unknown[] }).edges).toHaveLength(1);
  });

  it(`answers the running order, count and contributors of each of ${PARENTS} issues`, async () => {
    const response = await run(await everyPageAtOnce('issues', 'number articleCount contributors { slug } articles(first: 2) { edges { node { headline } } }'));
    expect(response.errors).toBeUndefined();
    const issues = Object.values(response.data ?? {}).flatMap((page) => page.edges.map((edge) => edge.node));
    expect(new Set(issues.map((issue) => issue.number)).size).toBe(PARENTS);
    for (const issue of issues) {
      const shown = (issue.articles as { edges: unknown[] }).edges.length;
      expect(shown).toBe(Math.min(2, issue.articleCount as number));
      expect(shown).toBeGreaterThan(0);
    }
  });

  it('reads them in a handful of statements, not one per parent', async () => {
    const query = await everyPageAtOnce('authors', 'articles(first: 1) { edges { node { headline authors { name } } } }');
    const statements = await app.statementsFor(async () => {
      const response = await run(query);
      expect(response.errors).toBeUndefined();
    });
    // A few per aliased page (its authors); then, per 500 parents, their pages of articles and
    // those articles' bylines: nowhere near a statement per parent.
    expect(statements).toBeLessThanOrEqual(3 * (PARENTS / PAGE) + 2 * (PARENTS / 500) + 2);
  });
});
