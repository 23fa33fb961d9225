import { getOperationAST, type GraphQLInterfaceType, parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newApiKey } from '../src/auth/api-keys.ts';
import { loadConfig } from '../src/config.ts';
import { analyzeQuery } from '../src/limits/query-analysis.ts';
import { subgraphSchema } from '../src/schema/index.ts';
import { NODE_TYPES } from '../src/schema/global-id.ts';
import { insertApiKey } from '../src/store/api-key.repository.ts';
import { createTestApp, silentLogger, type TestApp } from './support/app.ts';
import { type ServerProcess, startServerProcess } from './support/cli.ts';
import { createThrowawayStore, type ThrowawayStore } from './support/store.ts';

// What an outside attack on `masthead serve` with the default settings tried (issue 13), each
// refused or answered as the contract says, quickly, and never with a 500.

let app: TestApp;

beforeAll(async () => {
  app = await createTestApp({ seed: { issues: 3, authors: 5, articles: 30 } });
});
afterAll(async () => {
  await app?.close();
});

interface Answer {
  status: number;
  body: {
    data?: Record<string, unknown> | null;
    errors?: Array<{ message: string; path?: Array<string | number>; extensions?: Record<string, unknown> }>;
    extensions?: { cost?: { requested: number } };
  };
}

async function post(target: TestApp, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await target.fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Answer['body'] };
}

const refusedWith = (answer: Answer, code: string) => {
  expect(answer.status).toBe(400);
  expect(answer.body.data ?? undefined).toBeUndefined();
  expect(answer.body.errors?.[0]?.extensions?.code).toBe(code);
};

const globalId = (text: string) => Buffer.from(text).toString('base64');

/** `query{...F0}`, each fragment spreading the next twice: the document grows by one fragment, its expansion doubles. */
function fragmentChain(length: number, body = ''): string {
  let query = 'query{...F0}';
  for (let i = 0; i < length; i++) query += ` fragment F${i} on Query{${body} ...F${i + 1} ...F${i + 1}}`;
  return `${query} fragment F${length} on Query{__typename}`;
}

describe('fragments spread again and again (item 1)', () => {
  it('measures each fragment once, however often it is spread, and multiplies what it costs', () => {
    const document = parse(fragmentChain(16, 'a: latestIssue { number }'));
    const operation = getOperationAST(document);
    if (!operation) throw new Error('no operation');
    const analysis = analyzeQuery(subgraphSchema, document, operation, {}, { defaultSize: 20, maxSize: 100 });
    // The operation's one spread, two spreads and two fields in each of 16 fragments, the last one's field.
    expect(analysis.visited).toBe(1 + 16 * 4 + 1);
    // Yet every expansion counts: the alias and the issue appear 2^16 - 1 times.
    expect(analysis.aliases).toBe(2 ** 16 - 1);
    expect(analysis.cost).toBe(2 ** 16 - 1);
    expect(analysis.depth).toBe(2);
  });

  it('refuses a chain of fragments by its aliases and cost, and answers one of __typename, without running anything', async () => {
    // 20 long, so that the code before the fix, which takes seconds here, still finishes; the real server below takes 40.
    const before = app.metrics.storeQueries.get();
    const refused = await post(app, { query: fragmentChain(20, 'a: latestIssue { number }') });
    refusedWith(refused, 'TOO_MANY_ALIASES');
    expect(refused.body.errors?.[0]?.extensions?.cost).toMatchObject({ requested: 2 ** 20 - 1 });
    refusedWith(await post(app, { query: fragmentChain(20, 'latestIssue { number }') }), 'QUERY_TOO_COSTLY');
    expect(app.metrics.storeQueries.get()).toBe(before);
    // Twice: the second run is compiled (graphql-jit), which must not expand the fragments either.
    for (let run = 0; run < 2; run++) {
      const answered = await post(app, { query: fragmentChain(20) });
      expect(answered.status).toBe(200);
      expect(answered.body.data).toEqual({ __typename: 'Query' });
    }
  });

  it('refuses such a document before validating it, unused fragments included', async () => {
    // Validation compares fields in pairs (seconds for a few thousand tokens of repeats); the
    // limits come first. Were it validated first, the unknown field would be the error.
    const withUnknownField = fragmentChain(40, 'a: latestIssue { number nope }');
    refusedWith(await post(app, { query: withUnknownField }), 'TOO_MANY_ALIASES');
    const unused = `query { __typename } ${fragmentChain(40, 'latestIssue { number }').replace('query{...F0}', '')}`;
    const answer = await post(app, { query: unused });
    refusedWith(answer, 'QUERY_TOO_COSTLY');
    expect(answer.body.errors).toHaveLength(1);
  });

  it('refuses a field repeated more than MAX_REPEATED_FIELD times in one selection, fragments included, before validating it', async () => {
    // Within the other limits, yet validation compares such fields in pairs: seconds for 5000 tokens.
    const repeated = `{${' latestIssue { number }'.repeat(1000)} }`;
    const flat = `{ ${Array.from({ length: 300 }, (_, i) => `...F${i}`).join(' ')} } ${Array.from({ length: 300 }, (_, i) => `fragment F${i} on Query { latestIssue { number } }`).join(' ')}`;
    let chain = 'query { ...F0 }';
    for (let i = 0; i < 300; i++) chain += ` fragment F${i} on Query { latestIssue { number } ...F${i + 1} }`;
    chain += ' fragment F300 on Query { __typename }';
    for (const [query, times] of [
      [repeated, 1000],
      [flat, 300],
      [chain, 300],
    ] as const) {
      const answer = await post(app, { query });
      refusedWith(answer, 'FIELD_REPEATED_TOO_OFTEN');
      expect(answer.body.errors?.[0]?.message).toBe(`The field "latestIssue" is asked ${times} times in one selection; the limit is 100.`);
    }
    const fewer = await post(app, { query: `{${' latestIssue { number }'.repeat(100)} }` });
    expect(fewer.status).toBe(200);
  });

  describe('on a real server with the default settings', () => {
    let store: ThrowawayStore;
    let server: ServerProcess;

    beforeAll(async () => {
      store = await createThrowawayStore();
      server = await startServerProcess({ DATABASE_URL: store.databaseUrl, DEMO_CONTENT: '0' });
    });
    afterAll(async () => {
      await server?.stop();
      await store?.drop();
    });

    it('answers a 40-fragment chain within 3 s while /healthz keeps answering (today: minutes)', async () => {
      // Generous for a loaded machine; before the fix the analysis alone took minutes and held the event loop.
      const signal = AbortSignal.timeout(3000);
      const send = (query: string) =>
        fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }), signal });
      const [refused, answered, health] = await Promise.all([
        send(fragmentChain(40, 'a: latestIssue { number }')),
        send(fragmentChain(40)),
        fetch(`${server.url}/healthz`, { signal }),
      ]);
      expect(refused.status).toBe(400);
      expect(((await refused.json()) as Answer['body']).errors?.[0]?.extensions?.code).toBe('TOO_MANY_ALIASES');
      expect(answered.status).toBe(200);
      expect(await answered.json()).toMatchObject({ data: { __typename: 'Query' } });
      expect(health.status).toBe(200);
      // Again, now compiled (graphql-jit).
      const again = await send(fragmentChain(40));
      expect(await again.json()).toMatchObject({ data: { __typename: 'Query' } });
      expect(server.output()).not.toMatch(/internal error/);
    });
  });
});

describe('introspection inside the limits (item 2)', () => {
  const typesField = 'types { name fields { name type { name } } }';

  it('counts aliases inside __schema, as everywhere else', async () => {
    const aliased = Array.from({ length: 226 }, (_, i) => `t${i}: ${typesField}`).join(' ');
    const answer = await post(app, { query: `{ __schema { ${aliased} } }` });
    refusedWith(answer, 'TOO_MANY_ALIASES');
    expect(answer.body.errors?.[0]?.message).toMatch(/uses 226 aliases; the limit is 30/);
  });

  it('counts the depth of introspection selections', async () => {
    const nested = `${'ofType { '.repeat(15)}name${' }'.repeat(15)}`;
    refusedWith(await post(app, { query: `{ __type(name: "Query") { fields { type { ${nested} } } } }` }), 'QUERY_TOO_DEEP');
  });

  it('gives introspection lists the size they have in this schema', async () => {
    const { data } = await app.graphql<{ __schema: { types: { name: string }[] } }>('{ __schema { types { name } } }');
    const types = data?.__schema.types.length ?? 0;
    expect(types).toBeGreaterThan(20);
    const measured = await post(app, { query: '{ __schema { types { name interfaces { name } } } }' }, { 'x-masthead-dry-run': '1' });
    // __schema, its types, then an interfaces list for each of them (not LIST_ESTIMATE's 10).
    expect(measured.body.extensions?.cost?.requested).toBe(1 + 1 + types);
  });

  it('refuses 20 aliased copies of the schema by their cost, and lets one through', async () => {
    const whole =
      '__schema { types { name fields { name args { name type { name ofType { name } } } type { name ofType { name } } } } directives { name args { name } } }';
    expect((await post(app, { query: `{ ${whole} }` })).status).toBe(200);
    const copies = Array.from({ length: 20 }, (_, i) => `s${i}: ${whole}`).join(' ');
    refusedWith(await post(app, { query: `{ ${copies} }` }), 'QUERY_TOO_COSTLY');
  });
});

describe('_entities costs what it is given (item 3)', () => {
  const ARTICLES_OF = '... on Author { articles(first: 10) { edges { node { headline } } } }';
  const authorIds = async (count: number) => {
    const { data } = await app.graphql<{ authors: { edges: { node: { id: string } }[] } }>(`{ authors(first: ${count}) { edges { node { id } } } }`);
    return (data?.authors.edges ?? []).map((edge) => edge.node.id);
  };

  it('counts the representations given, from the literal or from the variable', async () => {
    const ids = await authorIds(5);
    expect(ids).toHaveLength(5);
    const literal = ids
      .slice(0, 3)
      .map((id) => `{ __typename: "Author", id: "${id}" }`)
      .join(', ');
    const fromLiteral = await post(app, { query: `{ _entities(representations: [${literal}]) { ${ARTICLES_OF} } }` }, { 'x-masthead-dry-run': '1' });
    // _entities, then for each of the 3 authors a connection and its 10 edges and nodes.
    expect(fromLiteral.body.extensions?.cost?.requested).toBe(1 + 3 * (1 + 10 + 10));
    const fromVariable = await post(app, {
      query: `query($r: [_Any!]!) { _entities(representations: $r) { ${ARTICLES_OF} } }`,
      variables: { r: ids.map((id) => ({ __typename: 'Author', id })) },
    });
    expect(fromVariable.status).toBe(200);
    expect(fromVariable.body.extensions?.cost?.requested).toBe(1 + 5 * (1 + 10 + 10));
  });

  it('refuses 400 authors with 100 articles each by their cost, before anything runs', async () => {
    const ids = await authorIds(5);
    const representations = Array.from({ length: 400 }, (_, i) => ({ __typename: 'Author', id: ids[i % ids.length] }));
    const before = app.metrics.storeQueries.get();
    const answer = await post(app, {
      query: 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Author { articles(first: 100) { edges { node { headline } } } } } }',
      variables: { r: representations },
    });
    refusedWith(answer, 'QUERY_TOO_COSTLY');
    expect(answer.body.extensions?.cost?.requested).toBe(1 + 400 * (1 + 100 + 100));
    expect(app.metrics.storeQueries.get()).toBe(before);
  });

  it('refuses more representations than MAX_REPRESENTATIONS in one call with TOO_MANY_REPRESENTATIONS, before anything runs', async () => {
    const [id] = await authorIds(1);
    const query = 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Author { name } } }';
    const many = (count: number) => ({ query, variables: { r: Array.from({ length: count }, () => ({ __typename: 'Author', id })) } });
    const before = app.metrics.storeQueries.get();
    const answer = await post(app, many(6000));
    refusedWith(answer, 'TOO_MANY_REPRESENTATIONS');
    expect(answer.body.errors?.[0]?.message).toBe('The query gives _entities 6000 representations; the limit is 500 per call.');
    refusedWith(await post(app, many(501)), 'TOO_MANY_REPRESENTATIONS');
    expect(app.metrics.storeQueries.get()).toBe(before);
    const allowed = await post(app, many(500));
    expect(allowed.status).toBe(200);
    expect(allowed.body.data?._entities).toHaveLength(500);
  });
});

describe('ids and representations that are not what they claim (items 11 and 12)', () => {
  const ENTITIES = 'query($r: [_Any!]!) { _entities(representations: $r) { __typename ... on Article { slug } } }';

  it('answers a representation nested 10,000 lists deep with BAD_USER_INPUT in its slot, not a 500', async () => {
    const deep = `${'['.repeat(10_000)}"x"${']'.repeat(10_000)}`;
    const errorsBefore = silentLogger.errors.length;
    for (const representation of [`{"__typename":"Article","id":${deep}}`, `{"__typename":"Article","slug":${deep}}`, `{"__typename":${deep}}`]) {
      const answer = await post(app, `{"query":${JSON.stringify(ENTITIES)},"variables":{"r":[${representation}]}}`);
      expect(answer.status).toBe(200);
      expect(answer.body.data?._entities).toEqual([null]);
      expect(answer.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(answer.body.errors?.[0]?.message).toMatch(/got (__typename )?a list$/);
    }
    expect(silentLogger.errors.length).toBe(errorsBefore);
  });

  it('resolves an _entities id that this API never issued to null, without an error', async () => {
    const answer = await post(app, {
      query: ENTITIES,
      variables: {
        r: ['bogus-id', 'not an id!', globalId('article:1'), globalId('Query:1'), globalId('Node:1'), globalId('Article:0')].map((id) => ({
          __typename: 'Article',
          id,
        })),
      },
    });
    expect(answer.status).toBe(200);
    expect(answer.body.errors).toBeUndefined();
    expect(answer.body.data?._entities).toEqual(Array(6).fill(null));
  });

  it('keeps BAD_USER_INPUT for representations that cannot be a key at all', async () => {
    const answer = await post(app, {
      query: ENTITIES,
      variables: { r: [{ __typename: 'Article', id: 42 }, { __typename: 'Article' }, { __typename: 'NewsletterSubscription', id: 'x' }] },
    });
    expect(answer.body.data?._entities).toEqual([null, null, null]);
    expect(answer.body.errors?.map((error) => error.extensions?.code)).toEqual(['BAD_USER_INPUT', 'BAD_USER_INPUT', 'BAD_USER_INPUT']);
  });

  it('answers node ids that name no node type, or the wrong case, with BAD_USER_INPUT and the documented wording', async () => {
    for (const text of ['article:1', 'Query:1', 'Node:1', 'PageInfo:1', 'ARTICLE:1']) {
      const id = globalId(text);
      const answer = await post(app, { query: 'query($id: ID!) { node(id: $id) { id } }', variables: { id } });
      expect(answer.status, text).toBe(200);
      expect(answer.body.data).toEqual({ node: null });
      expect(answer.body.errors?.[0]?.extensions?.code, text).toBe('BAD_USER_INPUT');
      expect(answer.body.errors?.[0]?.message, text).toBe(`Invalid ID "${id}": not an id that this API issued`);
    }
    const { data } = await app.graphql<{ articles: { edges: { node: { id: string } }[] } }>('{ articles(first: 1) { edges { node { id } } } }');
    const article = data?.articles.edges[0]?.node.id ?? '';
    expect((await post(app, { query: `{ node(id: "${article}") { id } }` })).body).toMatchObject({ data: { node: { id: article } } });
  });

  it('knows the ids of exactly the types that implement Node', () => {
    const node = subgraphSchema.getType('Node') as GraphQLInterfaceType;
    expect([...NODE_TYPES].sort()).toEqual(
      subgraphSchema
        .getPossibleTypes(node)
        .map((type) => type.name)
        .sort(),
    );
  });
});

describe('_service with INTROSPECTION=off (item 14)', () => {
  let closed: TestApp;
  let editorKey = '';

  beforeAll(async () => {
    closed = await createTestApp({ config: { limits: { ...loadConfig({}).limits, introspection: false } } });
    const key = newApiKey();
    await insertApiKey(closed.store.db, { name: 'router', role: 'editor', hash: key.hash, prefix: key.prefix, costBudget: null });
    editorKey = key.secret;
  });
  afterAll(async () => {
    await closed?.close();
  });

  it('refuses the subgraph SDL to the public, however the query asks for it', async () => {
    for (const query of ['{ _service { sdl } }', 'query { ...S } fragment S on Query { _service { sdl } }', '{ ... on Query { svc: _service { sdl } } }']) {
      const answer = await post(closed, { query });
      refusedWith(answer, 'INTROSPECTION_DISABLED');
      expect(answer.body.errors?.[0]?.message).toMatch(/introspection has been disabled.*"_service"/);
    }
    expect((await post(closed, { query: '{ latestIssue { __typename } }' })).status).toBe(200);
  });

  it("serves the subgraph SDL to an editor's key, for a router", async () => {
    const answer = await post(closed, { query: '{ _service { sdl } }' }, { authorization: `Bearer ${editorKey}` });
    expect(answer.status).toBe(200);
    expect(answer.body.data).toMatchObject({ _service: { sdl: expect.any(String) } });
    expect((answer.body.data?._service as { sdl?: string } | undefined)?.sdl).toMatch(/type Article/);
  });

  it('still serves it to everyone while introspection is on', async () => {
    const answer = await post(app, { query: '{ _service { sdl } }' });
    expect(answer.status).toBe(200);
    expect(answer.body.data).toMatchObject({ _service: { sdl: expect.any(String) } });
    expect((answer.body.data?._service as { sdl?: string } | undefined)?.sdl).toMatch(/@key/);
  });
});
