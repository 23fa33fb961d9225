import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type GraphQLResponse, type TestApp } from './support/app.ts';
import { ROOT } from './support/cli.ts';

// Masthead as a Federation 2 subgraph: what a router sends to /graphql, answered as the public
// graph would answer it (same loaders, same visibility), and never with a 500.

const GOOD = path.join(import.meta.dirname, 'fixtures/documents/good');

let app: TestApp;
beforeAll(async () => {
  app = await createTestApp({ seed: { issues: 12, authors: 30, articles: 300, seed: 5 }, documents: [GOOD] });
});
afterAll(async () => {
  await app?.close();
});

const globalId = (typename: string, id: number) => Buffer.from(`${typename}:${id}`).toString('base64');

type Entity = Record<string, unknown> | null;

const ENTITIES = `query Entities($representations: [_Any!]!) {
  _entities(representations: $representations) {
    __typename
    ... on Article { slug headline }
    ... on Author { slug name }
    ... on Issue { number }
    ... on Newsletter { slug name }
  }
}`;

function entities(representations: unknown[], query = ENTITIES): Promise<GraphQLResponse<{ _entities: Entity[] }>> {
  return app.graphql<{ _entities: Entity[] }>(query, { representations });
}

async function publicIds(count: number) {
  const { data } = await app.graphql<{
    articles: { edges: { node: { id: string; slug: string; authors: { id: string; slug: string }[]; issue: { id: string; number: number } | null } }[] };
    newsletters: { id: string; slug: string }[];
  }>(
    `query Ids($first: Int) {
    articles(first: $first) { edges { node { id slug authors { id slug } issue { id number } } } }
    newsletters { id slug }
  }`,
    { first: count },
  );
  const articles = (data?.articles.edges ?? []).map((edge) => edge.node);
  expect(articles).toHaveLength(count);
  return { articles, newsletters: data?.newsletters ?? [] };
}

describe('Masthead as a subgraph', () => {
  it('serves _service { sdl } as printed in schema/subgraph.graphql', async () => {
    const { data } = await app.graphql<{ _service: { sdl: string } }>('{ _service { sdl } }');
    expect(`${data?._service.sdl}\n`).toBe(readFileSync(path.join(ROOT, 'schema/subgraph.graphql'), 'utf8'));
    expect(data?._service.sdl).toMatch(/type Article implements Node\s+@key\(fields: "id"\)\s+@key\(fields: "slug"\)/);
    expect(data?._service.sdl).toMatch(/type Issue implements Node\s+@key\(fields: "id"\)\s+@key\(fields: "number"\)/);
  });

  it('makes Article, Author, Issue and Newsletter entities, and never a sign-up with its e-mail', async () => {
    const { data } = await app.graphql<{ __type: { possibleTypes: { name: string }[] } }>('{ __type(name: "_Entity") { possibleTypes { name } } }');
    expect(data?.__type.possibleTypes.map((type) => type.name).sort()).toEqual(['Article', 'Author', 'Issue', 'Newsletter']);
  });

  it('resolves every entity by its id and by its natural key, in the order asked', async () => {
    const { articles, newsletters } = await publicIds(1);
    const article = articles[0];
    const author = article?.authors[0];
    const newsletter = newsletters[0];
    if (!article?.issue || !author || !newsletter) throw new Error('the corpus lacks a piece with a byline and an issue');
    const response = await entities([
      { __typename: 'Article', id: article.id },
      { __typename: 'Article', slug: article.slug },
      { __typename: 'Author', id: author.id },
      { __typename: 'Author', slug: author.slug },
      { __typename: 'Issue', id: article.issue.id },
      { __typename: 'Issue', number: article.issue.number },
      { __typename: 'Newsletter', id: newsletter.id },
      { __typename: 'Newsletter', slug: newsletter.slug },
    ]);
    expect(response.errors).toBeUndefined();
    const found = response.data?._entities ?? [];
    expect(found.map((entity) => entity?.__typename)).toEqual(['Article', 'Article', 'Author', 'Author', 'Issue', 'Issue', 'Newsletter', 'Newsletter']);
    expect(found[0]).toEqual(found[1]);
    expect(found[0]).toMatchObject({ slug: article.slug });
    expect(found[2]).toEqual(found[3]);
    expect(found[3]).toMatchObject({ slug: author.slug });
    expect(found[4]).toEqual({ __typename: 'Issue', number: article.issue.number });
    expect(found[5]).toEqual(found[4]);
    expect(found[6]).toEqual(found[7]);
    expect(found[7]).toMatchObject({ slug: newsletter.slug });
  });

  it('resolves unknown keys (strings that are no id of this API included), ids of another type and unpublished pieces to null', async () => {
    const draft = await app.store.db.selectFrom('articles').select(['id', 'slug']).where('status', '=', 'draft').executeTakeFirstOrThrow();
    const { articles } = await publicIds(1);
    const response = await entities([
      { __typename: 'Article', id: globalId('Article', 999_999) },
      { __typename: 'Article', slug: 'no-such-piece' },
      { __typename: 'Article', id: articles[0]?.authors[0]?.id },
      { __typename: 'Article', id: globalId('Article', draft.id) },
      { __typename: 'Article', slug: draft.slug },
      { __typename: 'Article', slug: 'budget-day-what-the-chancellor-will-announce' },
      { __typename: 'Issue', number: 3200 },
      { __typename: 'Issue', number: 1_000_000 },
      { __typename: 'Author', slug: 'nobody-at-all' },
      { __typename: 'Newsletter', slug: 'no-such-letter' },
      { __typename: 'Newsletter', id: globalId('Newsletter', 12_345) },
      { __typename: 'Article', id: 'not an id!' },
    ]);
    expect(response.status).toBe(200);
    expect(response.errors).toBeUndefined();
    expect(response.data?._entities).toEqual(Array(12).fill(null));
  });

  it('refuses a malformed representation in its own slot with BAD_USER_INPUT, and resolves the rest', async () => {
    const { articles } = await publicIds(1);
    const good = { __typename: 'Article', id: articles[0]?.id };
    const bad: Array<[unknown, RegExp]> = [
      [{ __typename: 'Article', id: 42 }, /Article representation's id must be a string, got 42/],
      [{ __typename: 'Article' }, /Article representation needs its "id" or "slug"/],
      [{ __typename: 'Article', slug: ['a'] }, /Article representation's slug must be a string/],
      [{ __typename: 'Issue', number: '3100' }, /Issue representation's number must be a whole number, got "3100"/],
      [{ __typename: 'Issue', number: 1.5 }, /must be a whole number, got 1.5/],
      [
        { __typename: 'NewsletterSubscription', id: globalId('NewsletterSubscription', 1) },
        /must name an entity type of this subgraph \(Article, Author, Issue, Newsletter\), got __typename "NewsletterSubscription"/,
      ],
      [{ __typename: 'PageInfo' }, /got __typename "PageInfo"/],
      [{ __typename: 'Nope', id: 'x' }, /got __typename "Nope"/],
      [{ id: 'x' }, /got __typename undefined/],
      ['just a string', /got __typename undefined/],
    ];
    const response = await entities([good, ...bad.map(([representation]) => representation), good]);
    expect(response.status).toBe(200);
    const found = response.data?._entities ?? [];
    expect(found).toHaveLength(bad.length + 2);
    expect(found[0]).toMatchObject({ __typename: 'Article', slug: articles[0]?.slug });
    expect(found.at(-1)).toEqual(found[0]);
    expect(found.slice(1, -1)).toEqual(Array(bad.length).fill(null));
    const errors = response.errors ?? [];
    expect(errors).toHaveLength(bad.length);
    for (const [index, [, message]] of bad.entries()) {
      const error = errors.find((e) => e.path?.[1] === index + 1);
      expect(error?.message, `representation ${index + 1}`).toMatch(message);
      expect(error?.extensions?.code).toBe('BAD_USER_INPUT');
    }
    expect(JSON.stringify(response)).not.toMatch(/@|Unexpected error/);
  });

  it('answers a request without representations as a GraphQL error, not a 500', async () => {
    const missing = await app.graphql('{ _entities { __typename } }');
    expect(missing.status).toBe(400);
    expect(missing.errors?.[0]?.message).toMatch(/representations/);
    const nulls = await app.graphql(ENTITIES, { representations: null });
    expect(nulls.status).toBeGreaterThanOrEqual(400);
    expect(nulls.status).toBeLessThan(500);
  });
});

describe('_entities and the store', () => {
  const WITH_FIELDS = `query Entities($representations: [_Any!]!) {
    _entities(representations: $representations) {
      ... on Article { headline authors { name } issue { number } }
      ... on Author { name articleCount }
      ... on Issue { number articleCount }
      ... on Newsletter { name }
    }
  }`;

  async function representationsOf(count: number) {
    const { articles, newsletters } = await publicIds(count);
    const authors = [...new Map(articles.flatMap((a) => a.authors).map((a) => [a.id, a])).values()].slice(0, count);
    const issues = [...new Map(articles.flatMap((a) => (a.issue ? [a.issue] : [])).map((i) => [i.id, i])).values()];
    return {
      byId: [
        ...articles.map((a) => ({ __typename: 'Article', id: a.id })),
        ...authors.map((a) => ({ __typename: 'Author', id: a.id })),
        ...issues.map((i) => ({ __typename: 'Issue', id: i.id })),
        ...newsletters.slice(0, count).map((n) => ({ __typename: 'Newsletter', id: n.id })),
      ],
      byNaturalKey: [
        ...articles.map((a) => ({ __typename: 'Article', slug: a.slug })),
        ...authors.map((a) => ({ __typename: 'Author', slug: a.slug })),
        ...issues.map((i) => ({ __typename: 'Issue', number: i.number })),
        ...newsletters.slice(0, count).map((n) => ({ __typename: 'Newsletter', slug: n.slug })),
      ],
    };
  }

  async function statementsFor(representations: unknown[], query: string): Promise<number> {
    return app.statementsFor(async () => {
      const response = await entities(representations, query);
      expect(response.errors).toBeUndefined();
      expect(response.data?._entities.every((entity) => entity !== null)).toBe(true);
    });
  }

  it('costs one statement per entity type however many representations arrive', async () => {
    const one = await representationsOf(1);
    const fifty = await representationsOf(50);
    expect(fifty.byId.filter((r) => r.__typename === 'Article')).toHaveLength(50);
    for (const kind of ['byId', 'byNaturalKey'] as const) {
      for (const type of ['Article', 'Author', 'Issue', 'Newsletter']) {
        const only = (list: { __typename: string }[]) => list.filter((r) => r.__typename === type);
        expect(await statementsFor(only(one[kind]), ENTITIES), `${type} ${kind}, 1`).toBe(1);
        expect(await statementsFor(only(fifty[kind]), ENTITIES), `${type} ${kind}, 50`).toBe(1);
      }
      expect(await statementsFor(one[kind], ENTITIES), `all types ${kind}, 1 each`).toBe(4);
      expect(await statementsFor(fifty[kind], ENTITIES), `all types ${kind}, 50 articles`).toBe(4);
    }
  });

  it('batches the fields below the entities as the rest of the graph does', async () => {
    const one = await representationsOf(1);
    const fifty = await representationsOf(50);
    // 4 entity lookups, then bylines, the issues' counts and the authors' counts: 7 for 1 or 50.
    expect(await statementsFor(one.byId, WITH_FIELDS)).toBe(7);
    expect(await statementsFor(fifty.byId, WITH_FIELDS)).toBe(7);
  });
});
