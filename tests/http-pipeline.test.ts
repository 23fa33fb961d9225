import { request as httpRequest } from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './support/app.ts';
import { ROOT, type ServerProcess, startServerProcess } from './support/cli.ts';
import { rawExchange, rawRequest } from './support/raw-http.ts';
import { createThrowawayStore, type ThrowawayStore } from './support/store.ts';

const MANIFEST = path.join(ROOT, 'tests/generated/persisted-documents.json');
const SEARCH_ID = 'sha256:dd0fbcf55fbc4';

interface Answer {
  errors?: Array<{ message: string; extensions?: { code?: string } }>;
  data?: unknown;
}

/** Each test speaks from its own address (the server trusts one proxy hop), so budgets do not mix. */
let nextClient = 1;
const client = () => `198.51.100.${nextClient++}`;

/** A chunked body (no length said) of `bytes`, sent in 64 KiB pieces; the status, or null when the server hung up without one. */
function sendChunked(url: string, bytes: number, headers: Record<string, string>): Promise<number | null> {
  return new Promise((resolve) => {
    const target = new URL(url);
    const request = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: 'POST',
        agent: false,
        headers: { ...headers, 'transfer-encoding': 'chunked' },
      },
      (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      },
    );
    request.on('error', () => resolve(null));
    const piece = Buffer.alloc(64 * 1024, 'a');
    for (let sent = 0; sent < bytes; sent += piece.length) request.write(piece);
    request.end();
  });
}

describe('request bodies and the HTTP rules on a real server', () => {
  let store: ThrowawayStore;
  let server: ServerProcess;
  let port: number;

  beforeAll(async () => {
    store = await createThrowawayStore();
    server = await startServerProcess({
      DATABASE_URL: store.databaseUrl,
      DEMO_CONTENT: '0',
      MAIL_SENDER: 'off',
      TRUST_PROXY_HOPS: '1',
      RATE_LIMIT_PER_CLIENT: '12/1m',
    });
    port = Number(new URL(server.url).port);
  });
  afterAll(async () => {
    await server?.stop();
    await store?.drop();
  });

  it('answers a 5 MB body sent with fetch with the 413, not a broken pipe', async () => {
    const body = JSON.stringify({ query: `{ __typename } # ${'x'.repeat(5 * 1024 * 1024)}` });
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': client() },
      body,
    });
    expect(response.status).toBe(413);
    expect(((await response.json()) as Answer).errors?.[0]?.extensions?.code).toBe('PAYLOAD_TOO_LARGE');
    // Without a length (streamed in pieces) the server finds out only as it reads.
    const pieces = Buffer.from(body);
    const streamed = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': client() },
      body: new ReadableStream({
        start(controller) {
          for (let at = 0; at < pieces.length; at += 64 * 1024) controller.enqueue(pieces.subarray(at, at + 64 * 1024));
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
  });

  it('refuses Expect: 100-continue with a length over MAX_BODY_BYTES before the body is sent, and lets a small one go on', async () => {
    const refused = await rawExchange(
      port,
      'POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000000\r\nExpect: 100-continue\r\n\r\n',
    );
    expect(refused).toEqual([413]);
    const body = JSON.stringify({ query: '{ __typename }' });
    const accepted = await rawExchange(
      port,
      `POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n${body}`,
    );
    expect(accepted).toEqual([100, 200]);
  });

  it.each(['/subscriptions/confirm', '/subscriptions/unsubscribe'])('answers a chunked body of 3 MB on %s with 413', async (page) => {
    const status = await sendChunked(`${server.url}${page}`, 3 * 1024 * 1024, {
      'content-type': 'application/x-www-form-urlencoded',
      'x-forwarded-for': client(),
    });
    expect(status).toBe(413);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it('counts the subscription pages against the per-client budget', async () => {
    const at = client();
    const statuses: number[] = [];
    for (let i = 0; i < 14; i++) {
      const answer = await rawRequest(`${server.url}/subscriptions/confirm`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': at },
        body: 'token=not-a-token',
      });
      statuses.push(answer?.status ?? 0);
    }
    expect(statuses.slice(0, 12).every((status) => status === 400)).toBe(true);
    expect(statuses.slice(12)).toEqual([429, 429]);
  });

  it('answers a body that is not JSON with a 400 in its own words, without the body or the parser', async () => {
    const at = client();
    const answer = await rawRequest(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': at },
      body: '{"query": "{ secret-token-1234',
    });
    expect(answer?.status).toBe(400);
    expect(JSON.parse(answer!.text)).toEqual({ errors: [{ message: 'The request body is not valid JSON.', extensions: { code: 'BAD_REQUEST' } }] });
    const get = await rawRequest(`${server.url}/graphql?query=${encodeURIComponent('{ __typename }')}&variables=%7Bsecret-token-1234`, {
      headers: { accept: 'application/json', 'x-forwarded-for': at },
    });
    expect(get?.status).toBe(400);
    expect(get?.text).not.toContain('secret-token-1234');
    expect((JSON.parse(get!.text) as Answer).errors?.[0]?.extensions?.code).toBe('BAD_REQUEST');
  });

  it.each([
    ['a page size over the cap (BAD_USER_INPUT)', { query: '{ articles(first: 500) { totalCount } }' }],
    ['a field the public may not read (FORBIDDEN)', { query: '{ subscriptions(newsletter: "breakfast-in-red", first: 1) { totalCount } }' }],
    ['an unknown persisted query (PersistedQueryNotFound)', { extensions: JSON.stringify({ persistedQuery: { version: 1, sha256Hash: 'a'.repeat(64) } }) }],
  ])('keeps a GET answer with errors private: %s', async (_name, search) => {
    const at = client();
    const answer = await rawRequest(`${server.url}/graphql?${new URLSearchParams(search)}`, { headers: { accept: 'application/json', 'x-forwarded-for': at } });
    expect((JSON.parse(answer!.text) as Answer).errors?.length).toBeGreaterThan(0);
    expect(answer?.headers['cache-control']).toBe('private, no-store');
    const clean = await rawRequest(`${server.url}/graphql?${new URLSearchParams({ query: '{ latestIssue { number } }' })}`, {
      headers: { accept: 'application/json', 'x-forwarded-for': at },
    });
    expect(clean?.headers['cache-control']).toBe('public, max-age=30');
  });
  it.each([
    ['a clean POST', 'POST', '', JSON.stringify({ query: '{ __typename }' }), 'application/graphql-response+json'],
    ['a POST that does not parse', 'POST', '', JSON.stringify({ query: '{ __typename ' }), 'application/json'],
    ['a POST that does not validate', 'POST', '', JSON.stringify({ query: '{ nothingHere }' }), 'application/graphql-response+json'],
    [
      'a POST whose variables do not coerce',
      'POST',
      '',
      JSON.stringify({ query: 'query ($n: Int!) { issue(number: $n) { number } }', variables: { n: 'x' } }),
      'application/json',
    ],
    ['a POST of an operation not in the document', 'POST', '', JSON.stringify({ query: 'query A { __typename }', operationName: 'B' }), 'application/json'],
    ['a POST without a query', 'POST', '', JSON.stringify({ variables: {} }), 'application/json'],
    ['a clean GET', 'GET', `?${new URLSearchParams({ query: '{ latestIssue { number } }' })}`, undefined, 'application/json'],
    ['a GET of a page too large', 'GET', `?${new URLSearchParams({ query: '{ articles(first: 500) { totalCount } }' })}`, undefined, 'application/json'],
    [
      'a mutation over GET',
      'GET',
      `?${new URLSearchParams({ query: 'mutation { confirmSubscription(token: "x") { userErrors { code } } }' })}`,
      undefined,
      'application/json',
    ],
  ])("answers %s as Yoga's own handler does", async (_name, method, search, body, accept) => {
    const at = client();
    const send = (headers: Record<string, string>) =>
      rawRequest(`${server.url}/graphql${search}`, {
        method,
        headers: { accept, 'x-forwarded-for': at, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        ...(body === undefined ? {} : { body }),
      });
    // An Origin that CORS does not allow: the listener hands the request to Yoga's handler, which adds no CORS headers.
    const [driven, handled] = [await send({}), await send({ origin: 'https://elsewhere.example' })];
    const shape = (answer: Awaited<ReturnType<typeof send>>) => ({
      status: answer?.status,
      type: answer?.headers['content-type'],
      cacheControl: answer?.headers['cache-control'],
      allow: answer?.headers.allow,
      body: answer?.text,
    });
    expect(shape(driven)).toEqual(shape(handled));
  });
});

describe('trusted documents over GET on a real server', () => {
  let store: ThrowawayStore;
  let server: ServerProcess;

  beforeAll(async () => {
    store = await createThrowawayStore();
    server = await startServerProcess({ DATABASE_URL: store.databaseUrl, DEMO_CONTENT: '0', MAIL_SENDER: 'off', TRUSTED_DOCUMENTS: MANIFEST });
  });
  afterAll(async () => {
    await server?.stop();
    await store?.drop();
  });

  it('runs a documentId from the manifest by GET as it does by POST', async () => {
    const documentId = await fullId(SEARCH_ID);
    const variables = { query: 'the' };
    const post = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ documentId, variables }),
    });
    const get = await fetch(`${server.url}/graphql?${new URLSearchParams({ documentId, variables: JSON.stringify(variables) })}`, {
      headers: { accept: 'application/json' },
    });
    expect(post.status).toBe(200);
    expect(get.status).toBe(200);
    const [posted, got] = [(await post.json()) as Answer, (await get.json()) as Answer];
    expect(got.errors).toBeUndefined();
    expect(got.data).toEqual(posted.data);
  });
});

describe('the HTTP rules under yoga.fetch', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp({ seed: { issues: 2, authors: 2, articles: 6 }, config: {} });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('answers a body that is not JSON with the same 400, without the body or the parser', async () => {
    const response = await app.fetch('/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query": "{ secret-token-1234' });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ errors: [{ message: 'The request body is not valid JSON.', extensions: { code: 'BAD_REQUEST' } }] });
  });

  it('keeps a GET answer with errors private', async () => {
    const response = await app.fetch(`/graphql?${new URLSearchParams({ query: '{ articles(first: 500) { totalCount } }' })}`, {
      headers: { accept: 'application/json' },
    });
    expect(((await response.json()) as Answer).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(response.headers.get('cache-control')).toBe('private, no-store');
  });
});

/** The manifest's full key that starts with `prefix`. */
async function fullId(prefix: string): Promise<string> {
  const manifest = (await import(MANIFEST, { with: { type: 'json' } })) as { default: Record<string, string> };
  const key = Object.keys(manifest.default).find((id) => id.startsWith(prefix));
  if (!key) throw new Error(`no manifest entry starts with ${prefix}`);
  return key;
}
