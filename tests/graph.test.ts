import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './support/app.ts';

const GOOD = path.join(import.meta.dirname, 'fixtures/documents/good');

interface ArticleNode {
  id: string;
  slug: string;
  headline: string;
  publishedAt: string;
}
interface Connection<T> {
  totalCount: number;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  edges: Array<{ cursor: string; node: T }>;
}

let app: TestApp;

beforeAll(async () => {
  app = await createTestApp({ seed: { issues: 12, authors: 15, articles: 240, seed: 7 }, documents: [GOOD] });
});
afterAll(async () => {
  await app?.close();
});

async function data<T>(query: string, variables?: Record<string, unknown>): Promise<T> {
  const response = await app.graphql<T>(query, variables);
  expect(response.errors).toBeUndefined();
  return response.data as T;
}

async function errorOf(query: string, variables?: Record<string, unknown>) {
  const response = await app.graphql(query, variables);
  expect(response.errors?.length).toBeGreaterThan(0);
  return response.errors?.[0];
}

const ARTICLE_PAGE = `query Page($first: Int, $after: String, $filter: ArticleFilter, $orderBy: ArticleOrder) {
  articles(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id slug headline publishedAt } }
  }
}`;

async function allArticles(variables: Record<string, unknown>, pageSize: number): Promise<ArticleNode[]> {
  const nodes: ArticleNode[] = [];
  let after: string | null = null;
  for (;;) {
    const { articles }: { articles: Connection<ArticleNode> } = await data(ARTICLE_PAGE, {
      ...variables,
      first: pageSize,
      after,
    });
    nodes.push(...articles.edges.map((edge) => edge.node));
    if (!articles.pageInfo.hasNextPage) return nodes;
    after = articles.pageInfo.endCursor;
  }
}

describe('articles', () => {
  it('pages through every public article newest first, with cursors, and a totalCount that matches', async () => {
    const { articles } = await data<{ articles: Connection<ArticleNode> }>(ARTICLE_PAGE, { first: 100 });
    const paged = await allArticles({}, 7);
    expect(paged.length).toBe(articles.totalCount);
    expect(new Set(paged.map((a) => a.id)).size).toBe(paged.length);
    const times = paged.map((a) => a.publishedAt);
    expect([...times].sort().reverse()).toEqual(times);
    expect(paged.slice(0, 100)).toEqual(articles.edges.map((e) => e.node));
  });

  it('orders oldest first when asked, the exact reverse of newest first', async () => {
    const newest = await allArticles({}, 100);
    const oldest = await allArticles({ orderBy: 'PUBLISHED_AT_ASC' }, 100);
    expect(oldest).toEqual([...newest].reverse());
  });

  it('reports page boundaries in pageInfo', async () => {
    const first = await data<{ articles: Connection<ArticleNode> }>(ARTICLE_PAGE, { first: 3 });
    expect(first.articles.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    expect(first.articles.pageInfo.startCursor).toBe(first.articles.edges[0]?.cursor);
    expect(first.articles.pageInfo.endCursor).toBe(first.articles.edges[2]?.cursor);
    const second = await data<{ articles: Connection<ArticleNode> }>(ARTICLE_PAGE, {
      first: 3,
      after: first.articles.pageInfo.endCursor,
    });
    expect(second.articles.pageInfo.hasPreviousPage).toBe(true);
    const empty = await data<{ articles: Connection<ArticleNode> }>(ARTICLE_PAGE, { first: 0 });
    expect(empty.articles.edges).toEqual([]);
    expect(empty.articles.pageInfo).toMatchObject({ hasNextPage: true, startCursor: null, endCursor: null });
  });

  it('filters by issue, author and date, all together', async () => {
    const byIssue = await allArticles({ filter: { issueNumber: 3101 } }, 100);
    expect(byIssue.map((a) => a.headline).sort()).toEqual(['Night buses return after a winter of protest', 'Tenants win repairs after rent strike']);
    const byAuthor = await allArticles({ filter: { authorSlug: 'marta-quinlan' } }, 100);
    expect(byAuthor.map((a) => a.headline)).toEqual(['Tenants win repairs after rent strike', 'Dock strike closes the port for a third day']);
    const window = await allArticles({ filter: { publishedAfter: '2025-07-16T18:46:00Z', publishedBefore: '2026-01-10T12:00:00.000Z' } }, 100);
    expect(window.every((a) => a.publishedAt > '2025-07-16T18:46:00.000Z' && a.publishedAt < '2026-01-10T12:00:00.000Z')).toBe(true);
    expect(window.map((a) => a.headline)).toContain('Live: climate march reaches the square');
    const both = await allArticles({ filter: { issueNumber: 3101, authorSlug: 'marta-quinlan' } }, 100);
    expect(both.map((a) => a.headline)).toEqual(['Tenants win repairs after rent strike']);
    const none = await allArticles({ filter: { issueNumber: 999999 } }, 100);
    expect(none).toEqual([]);
  });

  it('accepts date-times with any offset and refuses ones that are not real', async () => {
    const withOffset = await allArticles({ filter: { publishedAfter: '2025-07-16T19:46:00+01:00' } }, 100);
    expect(withOffset.every((a) => a.publishedAt > '2025-07-16T18:46:00.000Z')).toBe(true);
    for (const bad of ['yesterday', '2025-02-30T00:00:00Z', '2025-07-16 18:46', '2025-07-16T18:46:00']) {
      const response = await app.graphql(ARTICLE_PAGE, { filter: { publishedAfter: bad } });
      expect(response.status).toBe(400);
      expect(response.errors?.[0]?.message).toMatch(/DateTime/);
    }
  });

  it('hides drafts and embargoed pieces from every public path', async () => {
    const all = await allArticles({}, 100);
    expect(all.map((a) => a.headline)).not.toContain('Budget day: what the chancellor will announce');
    const { article } = await data<{ article: unknown }>('{ article(slug: "budget-day-what-the-chancellor-will-announce") { id } }');
    expect(article).toBeNull();
    const { issue } = await data<{ issue: unknown }>('{ issue(number: 3200) { number } }');
    expect(issue).toBeNull();
    const { search } = await data<{ search: Connection<ArticleNode> }>('{ search(query: "chancellor budget") { totalCount edges { node { headline } } } }');
    expect(search.totalCount).toBe(0);
    const drafts = await app.store.db.selectFrom('articles').select('slug').where('status', '=', 'draft').execute();
    expect(drafts.length).toBeGreaterThan(0);
    for (const { slug } of drafts) {
      const found = await data<{ article: unknown }>('query A($slug: String) { article(slug: $slug) { id } }', { slug });
      expect(found.article).toBeNull();
    }
  });

  it('caps first, refuses a negative first and a cursor from elsewhere', async () => {
    const tooMany = await errorOf('{ articles(first: 101) { totalCount } }');
    expect(tooMany?.message).toMatch(/first must be at most 100/);
    expect(tooMany?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await errorOf('{ articles(first: -1) { totalCount } }'))?.message).toMatch(/negative/);
    for (const cursor of ['garbage', '', 'WyJ4Il0', Buffer.from('["published-desc","x","y"]').toString('base64url'), 'a'.repeat(5000)]) {
      const error = await errorOf('query A($after: String) { articles(after: $after) { totalCount } }', { after: cursor });
      expect(error?.message).toMatch(/Invalid cursor/);
      expect(error?.extensions?.code).toBe('BAD_USER_INPUT');
    }
    const { issues } = await data<{ issues: Connection<unknown> }>('{ issues(first: 1) { pageInfo { endCursor } edges { cursor } } }');
    const wrongKind = await errorOf('query A($after: String) { articles(after: $after) { totalCount } }', {
      after: issues.pageInfo.endCursor,
    });
    expect(wrongKind?.message).toMatch(/Invalid cursor/);
  });
});

describe('a single article', () => {
  it('is found by slug, by id and through node, with its full shape', async () => {
    const query = `query A($slug: String) { article(slug: $slug) {
      id slug headline standfirst body wordCount publishedAt
      authors { name slug } issue { number } promotedNewsletter { slug name description }
    } }`;
    const { article } = await data<{ article: Record<string, unknown> & { id: string; body: string[] } }>(query, {
      slug: 'dock-strike-closes-the-port-for-a-third-day',
    });
    expect(article).toMatchObject({
      headline: 'Dock strike closes the port for a third day',
      publishedAt: '2025-07-16T18:46:00.000Z',
      authors: [{ name: 'Marta Quinlan', slug: 'marta-quinlan' }],
      issue: { number: 3100 },
      promotedNewsletter: { slug: 'the-early-ledger', name: 'The Early Ledger' },
    });
    expect(article.standfirst).toBe(article.body[0]);
    expect(article.body).toHaveLength(4);
    expect(article.wordCount).toBeGreaterThan(60);
    const byId = await data<{ article: { slug: string } }>('query A($id: ID) { article(id: $id) { slug } }', { id: article.id });
    expect(byId.article.slug).toBe(article.slug);
    const node = await data<{ node: { __typename: string; headline: string } }>(
      'query N($id: ID!) { node(id: $id) { __typename ... on Article { headline } } }',
      { id: article.id },
    );
    expect(node.node).toEqual({ __typename: 'Article', headline: article.headline });
  });

  it('keeps the byline order of several authors, and an empty byline as an empty list', async () => {
    const { a, b } = await data<{ a: { authors: { name: string }[] }; b: { authors: unknown[]; issue: unknown } }>(`{
      a: article(slug: "night-buses-return-after-a-winter-of-protest") { authors { name } }
      b: article(slug: "live-climate-march-reaches-the-square") { authors { name } issue { number } }
    }`);
    expect(a.authors.map((x) => x.name)).toEqual(['Ana Belo', 'Tom Reyes', 'Priya Nair']);
    expect(b.issue).toBeNull();
    const editorial = await data<{ article: { authors: unknown[] } }>(
      '{ article(slug: "what-we-think-the-port-dispute-is-everyones-dispute") { authors { name } } }',
    );
    expect(editorial.article.authors).toEqual([]);
  });

  it('wants exactly one of id and slug, and a well-formed id', async () => {
    expect((await errorOf('{ article { id } }'))?.message).toMatch(/exactly one of id and slug/);
    expect((await errorOf('{ article(id: "x", slug: "y") { id } }'))?.message).toMatch(/exactly one/);
    const malformed = await errorOf('{ article(id: "not an id!") { id } }');
    expect(malformed?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await data<{ article: unknown }>('{ article(slug: "no-such-piece") { id } }')).article).toBeNull();
  });

  it('answers null for an id of another type or of nothing', async () => {
    const { authors } = await data<{ authors: Connection<{ id: string }> }>('{ authors(first: 1) { edges { node { id } } } }');
    const authorId = authors.edges[0]?.node.id;
    expect((await data<{ article: unknown }>('query A($id: ID) { article(id: $id) { id } }', { id: authorId })).article).toBeNull();
    const missing = Buffer.from('Article:999999').toString('base64');
    expect((await data<{ node: unknown }>('query N($id: ID!) { node(id: $id) { id } }', { id: missing })).node).toBeNull();
    const unknownType = Buffer.from('Bogus:1').toString('base64');
    const response = await app.graphql('query N($id: ID!) { node(id: $id) { id } }', { id: unknownType });
    expect(response.status).toBeLessThan(500);
    expect(response.data?.node ?? null).toBeNull();
  });
});

describe('issues', () => {
  it('lists public issues newest first; latestIssue is the first of them', async () => {
    const { issues, latestIssue } = await data<{
      issues: Connection<{ number: number }>;
      latestIssue: { number: number };
    }>('{ issues(first: 100) { totalCount edges { node { number } } } latestIssue { number } }');
    const numbers = issues.edges.map((e) => e.node.number);
    expect([...numbers].sort((a, b) => b - a)).toEqual(numbers);
    expect(numbers).not.toContain(3200);
    expect(issues.totalCount).toBe(numbers.length);
    expect(latestIssue.number).toBe(numbers[0]);
    expect(latestIssue.number).toBe(3101);
  });

  it('gives an issue its running order, count and contributors', async () => {
    const { issue } = await data<{
      issue: {
        number: number;
        publishedOn: string | null;
        articleCount: number;
        contributors: { name: string }[];
        articles: Connection<ArticleNode>;
      };
    }>(`{ issue(number: 3101) {
      number publishedOn articleCount contributors { name }
      articles(first: 10) { totalCount edges { node { headline publishedAt } } }
    } }`);
    expect(issue.publishedOn).toBeNull();
    expect(issue.articleCount).toBe(2);
    expect(issue.articles.totalCount).toBe(2);
    expect(issue.articles.edges.map((e) => e.node.headline)).toEqual(['Tenants win repairs after rent strike', 'Night buses return after a winter of protest']);
    expect(issue.contributors.map((c) => c.name)).toEqual(['Tom Reyes', 'Marta Quinlan', 'Ana Belo', 'Priya Nair']);
  });

  it('pages through an issue with cursors', async () => {
    const { issues } = await data<{ issues: Connection<{ number: number; articleCount: number }> }>(
      '{ issues(first: 100) { edges { node { number articleCount } } } }',
    );
    const biggest = [...issues.edges].sort((a, b) => b.node.articleCount - a.node.articleCount)[0]?.node;
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page: { issue: { articles: Connection<ArticleNode> } } = await data(
        'query I($n: Int!, $after: String) { issue(number: $n) { articles(first: 4, after: $after) { pageInfo { hasNextPage endCursor } edges { node { id publishedAt } } } } }',
        { n: biggest?.number, after },
      );
      seen.push(...page.issue.articles.edges.map((e) => e.node.publishedAt));
      if (!page.issue.articles.pageInfo.hasNextPage) break;
      after = page.issue.articles.pageInfo.endCursor;
    }
    expect(seen).toHaveLength(biggest?.articleCount ?? -1);
    expect([...seen].sort()).toEqual(seen);
  });
});

describe('authors', () => {
  interface AuthorNode {
    name: string;
    slug: string;
    articleCount: number;
    lastPublishedAt: string | null;
    firstPublishedAt: string | null;
  }
  const AUTHORS = `query A($first: Int, $after: String, $orderBy: AuthorOrder) {
    authors(first: $first, after: $after, orderBy: $orderBy) {
      totalCount pageInfo { hasNextPage endCursor }
      edges { node { name slug articleCount firstPublishedAt lastPublishedAt } }
    }
  }`;
  async function allAuthors(orderBy: string): Promise<AuthorNode[]> {
    const nodes: AuthorNode[] = [];
    let after: string | null = null;
    for (;;) {
      const { authors }: { authors: Connection<AuthorNode> } = await data(AUTHORS, { first: 4, after, orderBy });
      nodes.push(...authors.edges.map((e) => e.node));
      if (!authors.pageInfo.hasNextPage) return nodes;
      after = authors.pageInfo.endCursor;
    }
  }

  it('orders by name as written, ignoring case', async () => {
    const names = (await allAuthors('NAME_ASC')).map((a) => a.name);
    expect(names).toEqual([...names].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase(), 'en')));
    expect(names).toContain('Ana Belo');
    expect(names).not.toContain('Budget');
  });

  it('orders by article count and by recency, with ties broken stably', async () => {
    const byCount = await allAuthors('ARTICLE_COUNT_DESC');
    const counts = byCount.map((a) => a.articleCount);
    expect([...counts].sort((a, b) => b - a)).toEqual(counts);
    const byRecency = await allAuthors('LAST_PUBLISHED_DESC');
    const times = byRecency.map((a) => a.lastPublishedAt ?? '');
    expect([...times].sort().reverse()).toEqual(times);
    expect(new Set(byCount.map((a) => a.slug))).toEqual(new Set(byRecency.map((a) => a.slug)));
    expect(byCount.length).toBe(new Set(byCount.map((a) => a.slug)).size);
  });

  it('counts only public pieces, and dates them', async () => {
    const { author } = await data<{ author: AuthorNode & { articles: Connection<ArticleNode> } }>(`{
      author(slug: "marta-quinlan") { name slug articleCount firstPublishedAt lastPublishedAt
        articles(first: 10) { totalCount edges { node { headline } } } }
    }`);
    expect(author).toMatchObject({
      articleCount: 2,
      firstPublishedAt: '2025-07-16T18:46:00.000Z',
      lastPublishedAt: '2026-01-10T12:00:00.000Z',
    });
    expect(author.articles.totalCount).toBe(2);
    expect(author.articles.edges.map((e) => e.node.headline)).not.toContain('Budget day: what the chancellor will announce');
  });
});

describe('search', () => {
  const SEARCH = `query S($q: String!, $first: Int, $after: String) {
    search(query: $q, first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor } edges { node { headline } }
    }
  }`;

  it('ranks the obvious match first and matches word forms', async () => {
    const { search } = await data<{ search: Connection<{ headline: string }> }>(SEARCH, { q: 'dock strike port' });
    expect(search.edges[0]?.node.headline).toBe('Dock strike closes the port for a third day');
    const stemmed = await data<{ search: Connection<{ headline: string }> }>(SEARCH, { q: 'buses' });
    expect(stemmed.search.edges.map((e) => e.node.headline)).toContain('Night buses return after a winter of protest');
  });

  it('searches standfirst and body as well as the headline', async () => {
    const { search } = await data<{ search: Connection<{ headline: string }> }>(SEARCH, { q: 'crane driver' });
    expect(search.edges.map((e) => e.node.headline)).toEqual(['Dock strike closes the port for a third day']);
  });

  it('pages through results without repeats', async () => {
    const { search: whole } = await data<{ search: Connection<{ headline: string }> }>(SEARCH, { q: 'workers', first: 100 });
    expect(whole.totalCount).toBeGreaterThan(10);
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const { search }: { search: Connection<{ headline: string }> } = await data(SEARCH, { q: 'workers', first: 6, after });
      seen.push(...search.edges.map((e) => e.node.headline));
      if (!search.pageInfo.hasNextPage) break;
      after = search.pageInfo.endCursor;
    }
    expect(seen.slice(0, 100)).toEqual(whole.edges.map((e) => e.node.headline));
    expect(seen.length).toBe(whole.totalCount);
  });

  it.each([
    '"',
    'dock AND (strike OR',
    'NEAR(dock strike)',
    'headline:dock',
    '*',
    "'; drop table articles; --",
    '\u0000',
    '',
    '   ',
    '🙂 ☭',
    'a'.repeat(10_000),
    'dock -strike ^port',
    '!@#$%^&*()_+{}|:"<>?',
  ])('treats %j as text: a connection, never an error', async (q) => {
    const response = await app.graphql<{ search: Connection<unknown> }>(SEARCH, { q });
    expect(response.status).toBe(200);
    expect(response.errors).toBeUndefined();
    expect(response.data?.search.edges).toBeInstanceOf(Array);
  });

  it('finds the piece when hostile syntax surrounds real words', async () => {
    const { search } = await data<{ search: Connection<{ headline: string }> }>(SEARCH, { q: 'crane" AND driver*' });
    expect(search.edges.map((e) => e.node.headline)).toEqual(['Dock strike closes the port for a third day']);
  });
});

describe('newsletters', () => {
  it('lists the seeded and imported newsletters by name', async () => {
    const { newsletters } = await data<{ newsletters: Array<{ slug: string; name: string; id: string }> }>('{ newsletters { id slug name description } }');
    expect(newsletters.map((n) => n.slug)).toEqual(['breakfast-in-red', 'the-early-ledger', 'weekend-reads']);
    const node = await data<{ node: { name: string } }>('query N($id: ID!) { node(id: $id) { ... on Newsletter { name } } }', {
      id: newsletters[0]?.id,
    });
    expect(node.node.name).toBe('Breakfast in red');
  });
});
