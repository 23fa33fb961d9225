import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { createTestApp, type TestApp } from './support/app.ts';

let app: TestApp;

beforeAll(async () => {
  // One query below resolves 66 node ids through aliases: more than the default alias limit.
  app = await createTestApp({
    seed: { issues: 60, authors: 80, articles: 1500, seed: 11 },
    config: { limits: { ...loadConfig({}).limits, maxAliases: 100 } },
  });
});
afterAll(async () => {
  await app?.close();
});

async function statements(query: string, first: number): Promise<number> {
  return app.statementsFor(async () => {
    const response = await app.graphql(query, { first });
    expect(response.errors).toBeUndefined();
  });
}

const cases: Array<[string, string, number]> = [
  [
    "articles with their authors' counts and their issue's count",
    `query Q($first: Int) { articles(first: $first) { edges { node {
      headline authors { name articleCount } issue { number articleCount }
    } } } }`,
    5,
  ],
  [
    "authors with a page of their latest articles and those articles' issues",
    `query Q($first: Int) { authors(first: $first) { edges { node {
      name articles(first: 3) { totalCount edges { node { headline issue { number } } } }
    } } } }`,
    4,
  ],
  [
    'issues with their running order, bylines, counts and contributors',
    `query Q($first: Int) { issues(first: $first) { totalCount edges { node {
      number articleCount contributors { name }
      articles(first: 5) { totalCount edges { node { headline authors { name lastPublishedAt } } } }
    } } } }`,
    7,
  ],
  [
    'a dashboard of authors by output with their first and last publication',
    `query Q($first: Int) { authors(first: $first, orderBy: ARTICLE_COUNT_DESC) { edges { node {
      name articleCount firstPublishedAt lastPublishedAt
      articles(first: 2) { edges { node { issue { number contributors { name } } } } }
    } } } }`,
    // The order's own row carries each author's counts and times: no statement for them.
    5,
  ],
  [
    "an issue's running order with each piece's body and standfirst: the bodies in one statement of their own",
    `query Q($first: Int) { issues(first: 1) { edges { node {
      articles(first: $first) { edges { node { headline standfirst body } } }
    } } } }`,
    3,
  ],
  [
    'search results with bylines and issues',
    `query Q($first: Int) { search(query: "workers", first: $first) { totalCount edges { node {
      headline authors { slug } issue { number }
    } } } }`,
    4,
  ],
];

describe('store round trips do not grow with the size of a page', () => {
  it.each(cases)('%s', async (_name, query, expected) => {
    const five = await statements(query, 5);
    const fifty = await statements(query, 50);
    expect(fifty).toBe(five);
    expect(five).toBe(expected);
  });

  it("gives a list's pieces the same body and standfirst as reading each piece by its slug", async () => {
    type Piece = { slug: string; standfirst: string | null; body: string[] };
    const { data } = await app.graphql<{ articles: { edges: { node: Piece }[] } }>('{ articles(first: 20) { edges { node { slug standfirst body } } } }');
    const pieces = (data?.articles.edges ?? []).map(({ node }) => node);
    expect(pieces).toHaveLength(20);
    for (const piece of pieces) {
      const one = await app.graphql<{ article: Piece }>('query P($slug: String!) { article(slug: $slug) { slug standfirst body } }', { slug: piece.slug });
      expect(one.data?.article).toEqual(piece);
      expect(piece.body.length).toBeGreaterThan(0);
    }
  });

  it('resolves many node ids of several types in one statement per type', async () => {
    const { data } = await app.graphql<{
      articles: { edges: { node: { id: string; issue: { id: string }; authors: { id: string }[] } }[] };
    }>('{ articles(first: 40) { edges { node { id issue { id } authors { id } } } } }');
    const ids = (data?.articles.edges ?? []).flatMap(({ node }) => [node.id, node.issue?.id, ...node.authors.map((a) => a.id)]);
    const unique = [...new Set(ids.filter((id): id is string => typeof id === 'string'))];
    expect(unique.length).toBeGreaterThan(60);
    const query = `query { ${unique.map((id, i) => `n${i}: node(id: "${id}") { id }`).join('\n')} }`;
    let response: Awaited<ReturnType<TestApp['graphql']>> | undefined;
    const count = await app.statementsFor(async () => {
      response = await app.graphql(query);
    });
    expect(response?.errors).toBeUndefined();
    expect(Object.values(response?.data ?? {}).every((node) => node !== null)).toBe(true);
    expect(count).toBe(3);
  });
});
