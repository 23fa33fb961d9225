import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { buildClientSchema, getIntrospectionQuery, type GraphQLSchema, type IntrospectionQuery, type OperationDefinitionNode, parse, print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Config, loadConfig } from '../src/config.ts';
import { createTestApp, type TestApp } from './support/app.ts';
import { answerOf, expectGraphQLAnswer } from './support/answers.ts';
import { documents, FUZZ_SEED, fuzzRuns, InputValues, type KnownBug, type KnownValues, variablesFor } from './support/arbitraries.ts';

// Property-based tests through the Yoga instance (no socket: malformed requests go over a real
// connection in fuzz-http.test.ts). They run on both stores, since what a hostile value does to a statement is
// the store's business. The seed is fixed: a failure names its counterexample, and runs again.

/**
 * Every rate limit off, so that generated requests reach the resolvers and the store rather than
 * the limiters, set as the environment sets them: a setting this version does not know
 * (RATE_LIMIT_PER_CLIENT, with the request limits) is ignored until it has it.
 */
function withoutRateLimits(): Partial<Config> {
  const {
    store: _store,
    demoContent: _demoContent,
    ...settings
  } = loadConfig({
    SUBSCRIBE_RATE_PER_CLIENT: 'off',
    SUBSCRIBE_RATE_PER_EMAIL: 'off',
    RATE_LIMIT_PER_CLIENT: 'off',
  });
  return settings;
}

/**
 * Kinds of input that a store turns into an internal error, while a fix is pending: the generators
 * leave them out so that the properties keep looking for new ones, and a test below pins each.
 * None today: NUL in text and keys past the integer range were such bugs on PostgreSQL, fixed.
 */
const KNOWN_BUGS: readonly KnownBug[] = [];

let app: TestApp;
let schema: GraphQLSchema;
let known: KnownValues;

const post = (body: string, headers: Record<string, string> = {}) =>
  app.fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...headers },
    body,
  });

/** Ids, slugs, cursors and numbers that the store holds, learned through the graph. */
async function learnKnownValues(): Promise<KnownValues> {
  interface Edges<T> {
    edges: Array<{ cursor: string; node: T }>;
  }
  const { data } = await app.graphql<{
    articles: Edges<{ id: string; slug: string; publishedAt: string }>;
    oldest: Edges<unknown>;
    authors: Edges<{ id: string; slug: string }>;
    issues: Edges<{ id: string; number: number }>;
    search: Edges<unknown>;
    newsletters: Array<{ id: string; slug: string }>;
  }>(`{
    articles(first: 5) { edges { cursor node { id slug publishedAt } } }
    oldest: articles(first: 2, orderBy: PUBLISHED_AT_ASC) { edges { cursor } }
    authors(first: 5) { edges { cursor node { id slug } } }
    issues(first: 5) { edges { cursor node { id number } } }
    search(query: "the a of", first: 2) { edges { cursor } }
    newsletters { id slug }
  }`);
  if (!data) throw new Error('could not read the store under test');
  const all = [data.articles, data.oldest, data.authors, data.issues, data.search];
  return {
    ids: [
      ...data.articles.edges.map((edge) => edge.node.id),
      ...data.authors.edges.map((edge) => edge.node.id),
      ...data.issues.edges.map((edge) => edge.node.id),
      ...data.newsletters.map((newsletter) => newsletter.id),
    ],
    slugs: [...data.articles.edges.map((edge) => edge.node.slug), ...data.authors.edges.map((edge) => edge.node.slug)],
    cursors: all.flatMap((connection) => connection.edges.map((edge) => edge.cursor)),
    issueNumbers: data.issues.edges.map((edge) => edge.node.number),
    newsletters: data.newsletters.map((newsletter) => newsletter.slug),
    dateTimes: data.articles.edges.map((edge) => edge.node.publishedAt),
  };
}

/** The canonical operations of tests/operations, as the README shows them. */
function canonicalOperations(): OperationDefinitionNode[] {
  const folder = path.join(import.meta.dirname, 'operations');
  return readdirSync(folder)
    .filter((file) => file.endsWith('.graphql'))
    .flatMap((file) => parse(readFileSync(path.join(folder, file), 'utf8')).definitions)
    .filter((definition): definition is OperationDefinitionNode => definition.kind === 'OperationDefinition');
}

beforeAll(async () => {
  app = await createTestApp({
    seed: { issues: 8, authors: 12, articles: 90, seed: 5 },
    config: withoutRateLimits(),
  });
  const introspection = await app.graphql<IntrospectionQuery>(getIntrospectionQuery());
  if (!introspection.data) throw new Error(`introspection failed: ${JSON.stringify(introspection.errors)}`);
  schema = buildClientSchema(introspection.data);
  known = await learnKnownValues();
});
afterAll(async () => {
  await app?.close();
});

describe('operations generated from the schema', () => {
  it('never get a 5xx, an internal error or a stack trace, whatever fields, arguments and fragments they hold', async () => {
    await fc.assert(
      fc.asyncProperty(documents(schema, known, KNOWN_BUGS), async (query) => {
        expectGraphQLAnswer(await answerOf(await post(JSON.stringify({ query }))));
      }),
      { seed: FUZZ_SEED, numRuns: fuzzRuns(400) },
    );
  });
});

describe('the canonical operations with random variables', () => {
  const values = () => new InputValues(known, { avoid: KNOWN_BUGS });

  it.each(canonicalOperations().map((operation) => [operation.name?.value ?? 'anonymous', operation] as const))(
    '%s answers any variables with data or a 4xx, never a 5xx or an internal error',
    async (_name, operation) => {
      const query = print(operation);
      await fc.assert(
        fc.asyncProperty(variablesFor(operation, schema, values()), async (variables) => {
          expectGraphQLAnswer(await answerOf(await post(JSON.stringify({ query, variables }))));
        }),
        { seed: FUZZ_SEED, numRuns: fuzzRuns(150) },
      );
    },
  );
});

// What the properties above found on PostgreSQL, which refuses NUL characters in text and checks
// integer and timestamp ranges where SQLite compares anything with anything. The SQLite pass runs
// these as plain tests; on PostgreSQL each is expected to fail until src/ is fixed.

describe('bugs the properties above found, fixed and guarded', () => {
  const run = async (query: string) => {
    const answer = await answerOf(await post(JSON.stringify({ query })));
    expectGraphQLAnswer(answer);
    return JSON.parse(answer.text) as { data?: Record<string, unknown>; errors?: Array<{ extensions?: { code?: string } }> };
  };
  const cursor = (...parts: unknown[]) => Buffer.from(JSON.stringify(parts)).toString('base64url');
  const globalId = (text: string) => Buffer.from(text).toString('base64');

  it('a slug or newsletter with a NUL character in it names nothing, rather than failing inside', async () => {
    const lookups = await run(
      '{ article(slug: "red\\u0000") { id } author(slug: "\\u0000") { id } articles(filter: { authorSlug: "a\\u0000" }) { totalCount } }',
    );
    expect(lookups.errors).toBeUndefined();
    expect(lookups.data).toEqual({ article: null, author: null, articles: { totalCount: 0 } });
    const signUp = await run('mutation { subscribe(input: { email: "reader@example.org", newsletter: "x\\u0000" }) { userErrors { code } } }');
    expect(signUp.data).toEqual({ subscribe: { userErrors: [{ code: 'NEWSLETTER_NOT_FOUND' }] } });
  });

  it('an id past the integer range names nothing, rather than failing inside', async () => {
    const article = globalId('Article:9999999999999999');
    const author = globalId('Author:2147483648');
    const lookups = await run(`{ node(id: "${article}") { id } article(id: "${article}") { id } author(id: "${author}") { id } }`);
    expect(lookups.errors).toBeUndefined();
    expect(lookups.data).toEqual({ node: null, article: null, author: null });
  });

  it('a made-up cursor of the right order gives a page or BAD_USER_INPUT, never an internal error', async () => {
    const forged = [
      `articles(after: "${cursor('published-desc', 'not a time', 1)}")`,
      `articles(after: "${cursor('published-asc', '+275760-09-13T00:00:00.000Z', 1)}")`,
      `articles(after: "${cursor('published-desc', '2007-07-17T18:46:00.000Z', 1.5)}")`,
      `articles(after: "${cursor('published-desc', '2007-07-17T18:46:00.000Z', 1e308)}")`,
      `issues(after: "${cursor('issue-number-desc', 2 ** 31)}")`,
      `authors(after: "${cursor('author-name-asc', 'a\u0000', 1)}")`,
      `search(query: "red", after: "${cursor('search', 1, 1e10)}")`,
    ];
    for (const field of forged) {
      const body = await run(`{ page: ${field} { totalCount edges { cursor } } }`);
      for (const error of body.errors ?? []) expect(error.extensions?.code, field).toBe('BAD_USER_INPUT');
    }
  });
});
