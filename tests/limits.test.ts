import { request as httpRequest } from 'node:http';
import { getIntrospectionQuery } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { createTestApp, type TestApp } from './support/app.ts';
import { type ServerProcess, startServerProcess } from './support/cli.ts';
import { createThrowawayStore, type ThrowawayStore } from './support/store.ts';

let app: TestApp;

beforeAll(async () => {
  app = await createTestApp({
    seed: { issues: 3, authors: 5, articles: 30 },
    config: { limits: { ...loadConfig({}).limits, maxDepth: 7, maxAliases: 3, maxDirectives: 2, maxTokens: 400, maxCost: 600, maxBatch: 2 } },
  });
});
afterAll(async () => {
  await app?.close();
});

interface Answer {
  status: number;
  body: { data?: unknown; errors?: Array<{ message: string; extensions?: Record<string, unknown> }>; extensions?: Record<string, unknown> };
}

async function post(body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await app.fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Answer['body'] };
}

const refusedWith = (answer: Answer, code: string) => {
  expect(answer.status).toBe(400);
  expect(answer.body.data).toBeUndefined();
  expect(answer.body.errors?.[0]?.extensions?.code).toBe(code);
};

describe('query limits', () => {
  it('refuses a query deeper than MAX_DEPTH before it runs, fragments included', async () => {
    const before = app.metrics.storeQueries.get();
    refusedWith(await post({ query: '{ issues { edges { node { articles { edges { node { authors { name } } } } } } } }' }), 'QUERY_TOO_DEEP');
    refusedWith(
      await post({ query: '{ issues { edges { node { ...I } } } } fragment I on Issue { articles { edges { node { authors { name } } } } }' }),
      'QUERY_TOO_DEEP',
    );
    expect(app.metrics.storeQueries.get()).toBe(before);
    expect((await post({ query: '{ issues(first: 2) { edges { node { articles(first: 2) { edges { node { headline } } } } } } }' })).status).toBe(200);
  });

  it('refuses too many aliases and too many directives', async () => {
    refusedWith(
      await post({ query: '{ a: latestIssue { number } b: latestIssue { number } c: latestIssue { number } d: latestIssue { number } }' }),
      'TOO_MANY_ALIASES',
    );
    refusedWith(await post({ query: '{ latestIssue @include(if: true) { number @skip(if: false) articleCount @include(if: true) } }' }), 'TOO_MANY_DIRECTIVES');
  });

  it('refuses a query of more tokens than MAX_TOKENS while parsing', async () => {
    const answer = await post({ query: `{ ${'__typename '.repeat(500)} }` });
    expect(answer.status).toBe(400);
    expect(answer.body.errors?.[0]?.message).toMatch(/more th.. 400 tokens/);
  });

  it('counts a connection as its page size times what it holds, variables included', async () => {
    const query = 'query Q($n: Int) { issues(first: $n) { edges { node { articles(first: $n) { edges { node { headline } } } } } } }';
    const small = await post({ query, variables: { n: 5 } });
    expect(small.status).toBe(200);
    // issues 1, its 5 edges and nodes, 5 article connections, their 25 edges and nodes.
    expect(small.body.extensions?.cost).toEqual({ requested: 1 + 5 + 5 + 5 + 25 + 25, maximum: 600, depth: 7 });
    const big = await post({ query, variables: { n: 30 } });
    refusedWith(big, 'QUERY_TOO_COSTLY');
    expect(big.body.errors?.[0]?.message).toMatch(/could return 1891 objects; the limit is 600/);
    expect(big.body.extensions?.cost).toMatchObject({ requested: 1891, maximum: 600 });
    // The same document again (its measures are kept with it): each request measured with its own variables.
    const again = await post({ query, variables: { n: 5 } });
    expect(again.status).toBe(200);
    expect(again.body.extensions?.cost).toEqual(small.body.extensions?.cost);
    refusedWith(await post({ query, variables: { n: 30 } }), 'QUERY_TOO_COSTLY');
    // Without n, each connection counts as the default page size (20): 1 + 20 + 20 + 20 + 400 + 400.
    const fallback = await post({ query, variables: {} });
    refusedWith(fallback, 'QUERY_TOO_COSTLY');
    expect(fallback.body.extensions?.cost).toMatchObject({ requested: 861 });
  });

  it('measures a query without running it on a dry run', async () => {
    const before = app.metrics.storeQueries.get();
    const answer = await post({ query: '{ issues(first: 3) { edges { node { number } } } }' }, { 'x-masthead-dry-run': '1' });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ extensions: { cost: { requested: 7, maximum: 600, depth: 4 }, dryRun: true } });
    expect(app.metrics.storeQueries.get()).toBe(before);
  });

  it('refuses more batched operations than MAX_BATCH', async () => {
    const one = { query: '{ latestIssue { number } }' };
    const two = await app.fetch('/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify([one, one]) });
    expect(two.status).toBe(200);
    expect(await two.json()).toHaveLength(2);
    const three = await app.fetch('/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify([one, one, one]) });
    expect(three.status).toBeGreaterThanOrEqual(400);
    expect(three.status).toBeLessThan(500);
  });

  it('refuses a page larger than MAX_PAGE_SIZE with BAD_USER_INPUT', async () => {
    const answer = await post({ query: '{ articles(first: 101) { totalCount } }' });
    expect(answer.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('gives no field suggestions', async () => {
    const answer = await post({ query: '{ latestIssu { number } }' });
    expect(answer.status).toBe(400);
    expect(answer.body.errors?.[0]?.message).toBe('Cannot query field "latestIssu" on type "Query".');
  });

  it('lets the default limits through the introspection query GraphiQL sends', async () => {
    const relaxed = await createTestApp();
    try {
      const response = await relaxed.graphql(getIntrospectionQuery());
      expect(response.errors).toBeUndefined();
    } finally {
      await relaxed.close();
    }
  });

  it('refuses introspection when INTROSPECTION=off', async () => {
    const closed = await createTestApp({ config: { limits: { ...loadConfig({}).limits, introspection: false } } });
    try {
      const answer = await closed.graphql('{ __schema { types { name } } }');
      expect(answer.status).toBe(400);
      expect(answer.errors?.[0]?.message).toMatch(/introspection/i);
      expect((await closed.graphql('{ latestIssue { __typename } }')).errors).toBeUndefined();
    } finally {
      await closed.close();
    }
  });
});

describe('HTTP guards on a real server', () => {
  let store: ThrowawayStore;
  let server: ServerProcess;

  beforeAll(async () => {
    store = await createThrowawayStore();
    server = await startServerProcess({
      DATABASE_URL: store.databaseUrl,
      DEMO_CONTENT: '0',
      MAX_BODY_BYTES: '2048',
      RATE_LIMIT_PER_CLIENT: '25/1m',
      CORS_ORIGINS: 'https://reader.example.org',
    });
  });
  afterAll(async () => {
    await server?.stop();
    await store?.drop();
  });

  it('answers a body over MAX_BODY_BYTES with 413, whether or not it says its length', async () => {
    const big = JSON.stringify({ query: `{ latestIssue { number } } # ${'x'.repeat(4000)}` });
    const sized = await fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: big });
    expect(sized.status).toBe(413);
    expect(((await sized.json()) as Answer['body']).errors?.[0]?.extensions?.code).toBe('PAYLOAD_TOO_LARGE');

    const chunked = await new Promise<number>((resolve, reject) => {
      const url = new URL(`${server.url}/graphql`);
      const request = httpRequest(
        {
          host: url.hostname,
          port: url.port,
          path: '/graphql',
          method: 'POST',
          headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
        },
        (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        },
      );
      request.on('error', reject);
      for (let i = 0; i < 8; i++) request.write(big.slice(i * 600, (i + 1) * 600));
      request.end(big.slice(4800));
    });
    expect(chunked).toBe(413);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it('sends security headers, and CORS headers to allowed origins only', async () => {
    const allowed = await fetch(`${server.url}/graphql`, {
      method: 'OPTIONS',
      headers: { origin: 'https://reader.example.org', 'access-control-request-method': 'POST' },
    });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://reader.example.org');
    const other = await fetch(`${server.url}/graphql?query=${encodeURIComponent('{ latestIssue { number } }')}`, {
      headers: { origin: 'https://elsewhere.example', accept: 'application/json' },
    });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    expect(other.headers.get('x-content-type-options')).toBe('nosniff');
    expect(other.headers.get('x-frame-options')).toBe('DENY');
  });

  it('answers a client over RATE_LIMIT_PER_CLIENT with 429 and Retry-After', async () => {
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 30; i++) {
      const response = await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ latestIssue { number } }' }),
      });
      statuses.push(response.status);
      if (response.status === 429) retryAfter = response.headers.get('retry-after');
      await response.arrayBuffer();
    }
    expect(statuses).toContain(429);
    expect(statuses.filter((status) => status === 200).length).toBeLessThanOrEqual(25);
    expect(Number(retryAfter)).toBeGreaterThan(0);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });
});
