import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type GraphQLResponse, type TestApp } from './support/app.ts';

// Queries that clients send again are compiled (graphql-jit) on their second run. These check
// that a client cannot tell: the answers, and above all the errors, are the standard executor's.

let app: TestApp;

beforeAll(async () => {
  app = await createTestApp({ seed: { issues: 20, authors: 30, articles: 300, seed: 7 } });
});
afterAll(async () => {
  await app?.close();
});

/** The same request, sent often enough to run both before and after it is compiled. */
async function repeatedly(query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse[]> {
  const answers: GraphQLResponse[] = [];
  for (let run = 0; run < 4; run++) answers.push(await app.graphql(query, variables));
  return answers;
}

function expectAllAlike(answers: GraphQLResponse[]) {
  for (const answer of answers.slice(1)) expect(answer).toEqual(answers[0]);
}

describe('compiled execution', () => {
  it('answers a query alike before and after it is compiled, cursors included', async () => {
    const answers = await repeatedly(
      `query Page($first: Int) {
        latestIssue { number articles(first: $first) { edges { cursor node { ...piece } } pageInfo { hasNextPage endCursor startCursor } } }
        again: articles(first: 3) { totalCount edges { node { id slug } } }
      }
      fragment piece on Article { headline publishedAt wordCount authors { name slug articleCount } issue { number } }`,
      { first: 5 },
    );
    expectAllAlike(answers);
    const page = (answers[0]!.data as { latestIssue: { articles: { edges: Array<{ cursor: string }>; pageInfo: { startCursor: string; endCursor: string } } } })
      .latestIssue.articles;
    expect(page.edges).toHaveLength(5);
    expect(page.pageInfo.startCursor).toBe(page.edges[0]?.cursor);
    expect(page.pageInfo.endCursor).toBe(page.edges.at(-1)?.cursor);
  });

  it('reports errors as the standard executor does, however often the query runs', async () => {
    const forgedCursor = await repeatedly('query Q($after: String) { articles(first: 2, after: $after) { edges { node { id } } } }', {
      after: 'bm90LWEtY3Vyc29y',
    });
    expectAllAlike(forgedCursor);
    expect(forgedCursor[0]?.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');

    const entities = await repeatedly('query E($representations: [_Any!]!) { _entities(representations: $representations) { ... on Article { headline } } }', {
      representations: [{ __typename: 'Article', id: 42 }, { __typename: 'Nope', id: 'x' }, { __typename: 'Article' }],
    });
    expectAllAlike(entities);
    expect(entities[0]?.errors?.map((error) => error.path?.join('.')).sort()).toEqual(['_entities.0', '_entities.1', '_entities.2']);

    // A field the public may not read: partial data, one coded error, alike every time.
    const forbidden = await repeatedly('{ articles(first: 2) { edges { node { headline status } } } }');
    expectAllAlike(forbidden);
    expect(forbidden[0]?.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('runs a mutation once each time it is sent, never again to recompute its answer', async () => {
    const subscribe = `mutation S($email: String!) {
      subscribe(input: { email: $email, newsletter: "no-such-newsletter" }) { userErrors { code } }
    }`;
    const statements = await app.statementsFor(async () => {
      const answers = await repeatedly(subscribe, { email: 'reader@example.org' });
      expectAllAlike(answers);
      expect(answers[0]?.data).toEqual({ subscribe: { userErrors: [{ code: 'NEWSLETTER_NOT_FOUND' }] } });
    });
    // One newsletter lookup per request: four requests, four statements.
    expect(statements).toBe(4);
  });
});
