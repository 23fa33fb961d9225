import { request as httpRequest } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { createTestApp, silentLogger } from './support/app.ts';
import { runCli, type ServerProcess, startServerProcess } from './support/cli.ts';
import { createThrowawayStore, type ThrowawayStore } from './support/store.ts';
import { requestStatements } from './support/answers.ts';

let server: ServerProcess;
let store: ThrowawayStore;

beforeAll(async () => {
  store = await createThrowawayStore();
  // The webhook worker and fan-out read the store on their own: statements between a test's two counts.
  server = await startServerProcess({ DATABASE_URL: store.databaseUrl, DEMO_CONTENT: '1', WEBHOOK_SENDER: 'off' });
});
afterAll(async () => {
  await server?.stop();
  await store?.drop();
});

const post = (body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
  fetch(`${server.url}/graphql`, { method: 'POST', headers, body });

/** A GET as it goes over the wire: the body as sent, not decoded. */
function rawGet(url: string, headers: Record<string, string>): Promise<{ headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    httpRequest(url, { headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ headers: response.headers, body: Buffer.concat(chunks) }));
      response.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

async function storeQueriesTotal(): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  if (!/^masthead_store_background_queries_total \d+$/m.test(text)) throw new Error(`no counter in:\n${text}`);
  return requestStatements(text);
}

describe('the server as a user runs it', () => {
  it('loads the demo corpus into an empty store and serves it', async () => {
    const response = await post(JSON.stringify({ query: '{ latestIssue { number articleCount } authors(first: 1) { totalCount } newsletters { slug } }' }));
    expect(response.status).toBe(200);
    const body = (await response.json()) as { data: { latestIssue: { articleCount: number }; authors: { totalCount: number }; newsletters: unknown[] } };
    expect(body.data.latestIssue.articleCount).toBeGreaterThan(0);
    expect(body.data.authors.totalCount).toBeGreaterThan(30);
    expect(body.data.newsletters.length).toBeGreaterThan(0);
  });

  it('answers GET /graphql with a query string, and shows GraphiQL to a browser', async () => {
    const query = encodeURIComponent('{ issues(first: 2) { edges { node { number } } } }');
    const get = await fetch(`${server.url}/graphql?query=${query}`, { headers: { accept: 'application/json' } });
    expect(get.status).toBe(200);
    expect(((await get.json()) as { data: { issues: { edges: unknown[] } } }).data.issues.edges).toHaveLength(2);
    const page = await fetch(`${server.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toMatch(/GraphiQL|graphiql/);
    expect(html).not.toMatch(/unpkg\.com|jsdelivr|cdn\./);
  });

  it('sends GraphiQL compressed, with an ETag that answers a browser which has the page with a 304', async () => {
    const plain = await fetch(`${server.url}/graphql`, { headers: { accept: 'text/html', 'accept-encoding': 'identity' } });
    const html = await plain.text();
    expect(html.length).toBeGreaterThan(1_000_000);
    const etag = plain.headers.get('etag');
    expect(etag).toMatch(/^"[\w-]+"$/);
    expect(plain.headers.get('cache-control')).toBe('public, max-age=86400, must-revalidate');
    for (const encoding of ['br', 'gzip'] as const) {
      // Node's fetch would decode the body: a raw request shows what went over the wire.
      const raw = await rawGet(`${server.url}/graphql`, { accept: 'text/html', 'accept-encoding': encoding });
      expect(raw.headers['content-encoding']).toBe(encoding);
      expect(raw.body.length).toBeLessThan(html.length / 3);
      const decoded = encoding === 'br' ? brotliDecompressSync(raw.body) : gunzipSync(raw.body);
      expect(decoded.toString('utf8')).toBe(html);
    }
    const again = await fetch(`${server.url}/graphql`, { headers: { accept: 'text/html', 'if-none-match': etag ?? '' } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
  });

  it('says at start which store it opened and how much it holds', () => {
    expect(server.output()).toMatch(/ info store: (SQLite file \S+|PostgreSQL database \S+), holding \d+ articles, \d+ issues and \d+ authors$/m);
  });

  it('answers each request with an id of its own, and logs one access line for it under that id', async () => {
    const response = await post(JSON.stringify({ query: '{ latestIssue { number } }' }));
    const id = response.headers.get('x-request-id') ?? '';
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // A client that reaches the server directly does not choose its id.
    const chosen = await post(JSON.stringify({ query: '{ __typename }' }), { 'content-type': 'application/json', 'x-request-id': 'mine' });
    expect(chosen.headers.get('x-request-id')).not.toBe('mine');
    for (let waited = 0; !server.output().includes(`requestId=${id}`) && waited < 5000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(server.output()).toMatch(
      new RegExp(`^\\S+ info request log=access requestId=${id} method=POST path=/graphql status=200 ms=[\\d.]+ bytes=\\d+$`, 'm'),
    );
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).toMatch(/^graphql_yoga_http_duration_count\{method="POST",route="\/graphql",statusCode="200"\} \d+$/m);
  });

  it('puts an id on every kind of answer: computed, kept, refused, not modified, and those Yoga writes', async () => {
    const url = `${server.url}/graphql`;
    const get = `${url}?query=${encodeURIComponent('{ latestIssue { number } }')}`;
    const first = await fetch(get);
    const etag = first.headers.get('etag') ?? '';
    const answers: Array<[string, Response]> = [
      ['a computed GET', first],
      ['a kept answer', await fetch(get)],
      ['a 304', await fetch(get, { headers: { 'if-none-match': etag } })],
      ['a computed POST', await post(JSON.stringify({ query: '{ __typename }' }))],
      ['malformed JSON', await post('{"query":')],
      ['a body past the limit', await post(JSON.stringify({ query: `{ __typename }${' '.repeat(2 * 1024 * 1024)}` }))],
      ['an unknown content type', await post('{ __typename }', { 'content-type': 'text/plain' })],
      ['a batch', await post(JSON.stringify([{ query: '{ __typename }' }]))],
      ['GraphiQL', await fetch(url, { headers: { accept: 'text/html' } })],
      ['health', await fetch(`${server.url}/healthz`)],
      ['an unknown path', await fetch(`${server.url}/nowhere`)],
    ];
    expect(answers.map(([kind, response]) => [kind, response.status])).toEqual([
      ['a computed GET', 200],
      ['a kept answer', 200],
      ['a 304', 304],
      ['a computed POST', 200],
      ['malformed JSON', 400],
      ['a body past the limit', 413],
      ['an unknown content type', 415],
      ['a batch', 200],
      ['GraphiQL', 200],
      ['health', 200],
      ['an unknown path', 404],
    ]);
    const ids = answers.map(([kind, response]) => `${kind}: ${response.headers.get('x-request-id')}`);
    for (const id of ids) expect(id).toMatch(/: [0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(ids.map((id) => id.split(': ')[1])).size).toBe(ids.length);
    await Promise.all(answers.map(([, response]) => response.body?.cancel()));
  });

  it('names PORT when the port is taken', { timeout: 90_000 }, async () => {
    const taken = createNetServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => void taken.close());
    const { port } = taken.address() as AddressInfo;
    const result = await runCli(['serve'], { DATABASE_URL: store.databaseUrl, PORT: String(port) });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `masthead serve: PORT ${port} on HOST 127.0.0.1 is already in use: stop what listens there, or set PORT to another port (0 picks a free one)`,
    );
  });

  it('says it is alive and ready', async () => {
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready' });
    expect((await fetch(`${server.url}/healthz`, { method: 'POST' })).status).toBe(405);
  });

  it('counts the statements it sends to the store on /metrics', async () => {
    const metrics = await fetch(`${server.url}/metrics`);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await metrics.text()).toMatch(/# TYPE masthead_store_queries_total counter/);
    const before = await storeQueriesTotal();
    const query = JSON.stringify({ query: '{ articles(first: 3) { edges { node { headline authors { name } } } } }' });
    await post(query);
    // The page and its bylines; the response cache knows the store's content version without a
    // statement, nothing was committed (SQLite asks PRAGMA data_version; PostgreSQL LISTENs).
    const version = 0;
    expect(await storeQueriesTotal()).toBe(before + version + 2);
    await post(query);
    // The same query again, nothing written since: the cached answer, after the version.
    expect(await storeQueriesTotal()).toBe(before + version + 2 + version);
  });

  it('times GraphQL phases and store statements in histograms on /metrics, beside the process metrics', async () => {
    await post(JSON.stringify({ query: '{ latestIssue { number articles(first: 2) { edges { node { headline } } } } }' }));
    const text = await (await fetch(`${server.url}/metrics`)).text();
    for (const phase of ['parse', 'validate', 'context', 'execute']) {
      expect(text).toMatch(new RegExp(`^# TYPE graphql_envelop_phase_${phase} histogram$`, 'm'));
      expect(Number(new RegExp(`^graphql_envelop_phase_${phase}_count (\\d+)$`, 'm').exec(text)?.[1])).toBeGreaterThan(0);
    }
    expect(Number(/^masthead_store_statement_duration_seconds_count (\d+)$/m.exec(text)?.[1])).toBeGreaterThan(0);
    expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_p99_seconds /m);
  });

  it.each([
    ['a body that is not JSON', '{"query": ', 400],
    ['a JSON body without a query', '{"variables": {}}', 400],
    ['a query that is not a string', '{"query": 42}', 400],
    ['variables that are not an object', '{"query": "{ latestIssue { number } }", "variables": "x"}', 400],
    ['a query that does not parse', '{"query": "{ latestIssue { "}', 400],
    ['a field that does not exist', '{"query": "{ nope }"}', 400],
    ['a missing required argument', '{"query": "{ issue { number } }"}', 400],
    ['an operation name that is not in the document', '{"query": "query A { latestIssue { number } }", "operationName": "B"}', 400],
  ])('answers %s with a 4xx and a GraphQL error', async (_name, body, status) => {
    const response = await post(body);
    expect(response.status).toBe(status);
    const json = (await response.json()) as { errors: Array<{ message: string }> };
    expect(json.errors[0]?.message).toEqual(expect.any(String));
  });

  it('refuses a mutation over GET and an unknown content type with a 4xx', async () => {
    const mutation = encodeURIComponent('mutation { subscribe(input: { email: "a@b.org", newsletter: "x" }) { userErrors { code } } }');
    expect((await fetch(`${server.url}/graphql?query=${mutation}`, { headers: { accept: 'application/json' } })).status).toBe(405);
    const xml = await post('<query/>', { 'content-type': 'application/xml' });
    expect(xml.status).toBeGreaterThanOrEqual(400);
    expect(xml.status).toBeLessThan(500);
    expect((await fetch(`${server.url}/nowhere`)).status).toBe(404);
  });

  it('stops cleanly on SIGTERM', async () => {
    const other = await createThrowawayStore();
    const second = await startServerProcess({ DATABASE_URL: other.databaseUrl, DEMO_CONTENT: '0' });
    const empty = await fetch(`${second.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ latestIssue { number } articles { totalCount } }' }),
    });
    expect(((await empty.json()) as { data: unknown }).data).toEqual({ latestIssue: null, articles: { totalCount: 0 } });
    expect(await second.stop()).toBe(0);
    await other.drop();
  });

  it('writes access lines in batches, and every one of them before it exits on SIGTERM', async () => {
    const other = await createThrowawayStore();
    onTestFinished(() => other.drop());
    const fourth = await startServerProcess({ DATABASE_URL: other.databaseUrl, DEMO_CONTENT: '0' });
    const ids: string[] = [];
    for (let n = 0; n < 5; n++) {
      const response = await fetch(`${fourth.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"query":"{ __typename }"}',
      });
      ids.push(response.headers.get('x-request-id') ?? '');
    }
    // Far under 4 KiB: the last lines may still wait in the batch when the signal comes.
    expect(await fourth.stop()).toBe(0);
    for (const id of ids)
      expect(fourth.output()).toMatch(new RegExp(`^\\S+ info request log=access requestId=${id} method=POST path=/graphql status=200 `, 'm'));
    expect(fourth.output()).toMatch(/SIGTERM: shutting down/);
  });

  it('on SIGTERM finishes the requests in flight, refuses new ones, then exits 0', async () => {
    const other = await createThrowawayStore();
    onTestFinished(() => other.drop());
    const third = await startServerProcess({ DATABASE_URL: other.databaseUrl, DEMO_CONTENT: '0' });
    const url = new URL(third.url);
    const body = JSON.stringify({ query: '{ articles { totalCount } }' });
    // A request in flight: its headers and half its body are sent before the signal.
    const inFlight = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const request = httpRequest(
        {
          host: url.hostname,
          port: url.port,
          path: '/graphql',
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (response) => {
          let text = '';
          response.on('data', (chunk: Buffer) => {
            text += chunk.toString();
          });
          response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
        },
      );
      request.on('error', reject);
      request.write(body.slice(0, 10));
      setTimeout(() => request.end(body.slice(10)), 800);
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const exited = third.stop();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await expect(fetch(`${third.url}/healthz`)).rejects.toThrow();
    const finished = await inFlight;
    expect(finished.status).toBe(200);
    expect(JSON.parse(finished.text).data).toEqual({ articles: { totalCount: 0 } });
    expect(await exited).toBe(0);
  });
});

describe('when things go wrong inside', () => {
  it('masks an internal error to the client, logs it, and reports the store unready', async () => {
    const app = await createTestApp();
    onTestFinished(() => app.close());
    await app.store.close();
    silentLogger.errors.length = 0;
    const response = await app.graphql('{ articles { totalCount } }');
    expect(response.status).toBe(200);
    expect(response.errors?.[0]?.message).toBe('Unexpected error.');
    expect(JSON.stringify(response)).not.toMatch(/destroyed|kysely|stack|at .*\.ts/i);
    expect(silentLogger.errors.length).toBeGreaterThan(0);
    const ready = await app.fetch('/readyz');
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: 'unavailable' });
  });
});

describe('the embedded default store', () => {
  it('lives in ./data/masthead.sqlite of the working folder', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'masthead-default-'));
    try {
      const process = await startServerProcess({ DEMO_CONTENT: '0' }, undefined, dir);
      await process.stop();
      const { existsSync } = await import('node:fs');
      expect(existsSync(path.join(dir, 'data/masthead.sqlite'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
