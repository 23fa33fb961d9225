import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeak } from './support/answers.ts';
import { ACCEPTS, CONTENT_TYPES, FUZZ_SEED, fuzzRuns, headerValue, malformedBodies } from './support/arbitraries.ts';
import { type ServerProcess, startServerProcess } from './support/cli.ts';
import { rawExchange, rawRequest } from './support/raw-http.ts';
import { createThrowawayStore, testDialect, type ThrowawayStore } from './support/store.ts';

// Malformed requests and hostile headers over a real connection to `masthead serve`: what fetch
// will not send, and what only the listener sees. The HTTP layer is the same whatever the store,
// so this runs in the SQLite pass only.

let server: ServerProcess;
let store: ThrowawayStore;
let mailDir: string;
let port: number;

beforeAll(async () => {
  if (testDialect !== 'sqlite') return;
  store = await createThrowawayStore();
  mailDir = mkdtempSync(path.join(tmpdir(), 'masthead-fuzz-mail-'));
  server = await startServerProcess({
    DATABASE_URL: store.databaseUrl,
    DEMO_CONTENT: '1',
    MAIL_DIR: mailDir,
    // One trusted proxy hop, so that X-Forwarded-For is parsed rather than ignored.
    TRUST_PROXY_HOPS: '1',
    // Every request comes from one address: past the request limit, all would be 429s. (A server
    // without request limits ignores the setting.)
    RATE_LIMIT_PER_CLIENT: 'off',
  });
  port = Number(new URL(server.url).port);
});
afterAll(async () => {
  await server?.stop();
  await store?.drop();
  if (mailDir) rmSync(mailDir, { recursive: true, force: true });
});

/** The server is alive, and logged no error since `mark` (a length of its output). */
async function expectStillHealthy(mark: number): Promise<void> {
  expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  expect(server.output().slice(mark)).not.toMatch(/^\S+ error /m);
}

const graphqlUrl = () => `${server.url}/graphql`;

describe.runIf(testDialect === 'sqlite')('hostile requests over HTTP', () => {
  it('never get a 5xx or a stack trace, whatever the method, path, headers and body', async () => {
    const mark = server.output().length;
    const request = fc.record({
      method: fc.constantFrom('GET', 'POST', 'POST', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'),
      path: fc.oneof(
        fc.constantFrom(
          '/graphql',
          '/graphql?query=%7B__typename%7D',
          '/graphql?query=%7B&variables=%7B%7D',
          '/graphql?query={latestIssue{number}}&query=mutation{x}',
          `/graphql?${'&'.repeat(2000)}`,
          '/healthz',
          '/readyz',
          '/metrics',
          '/subscriptions/confirm?token=abc',
          '/subscriptions/unsubscribe',
          '/nowhere',
          '//graphql',
          '/graphql/../healthz',
          '/%ff%fe',
        ),
        headerValue(40).map((text) => `/graphql?query=${encodeURIComponent(text)}`),
        headerValue(40).map((text) => `/subscriptions/unsubscribe?token=${encodeURIComponent(text)}`),
      ),
      contentType: fc.oneof(fc.constantFrom(...CONTENT_TYPES), headerValue()),
      accept: fc.oneof(fc.constantFrom(...ACCEPTS), headerValue()),
      extra: fc.dictionary(
        fc.constantFrom('x-forwarded-for', 'user-agent', 'origin', 'authorization', 'x-api-key', 'cookie', 'content-encoding', 'graphql-client-name'),
        fc.oneof(headerValue(), fc.constantFrom('1.2.3.4, 5.6.7.8', '::1', '::ffff:10.0.0.1', ', , ,', '999.1.1.1', 'gzip', 'br', '1,'.repeat(2000))),
        { maxKeys: 3 },
      ),
      body: fc.option(malformedBodies(), { freq: 5, nil: undefined }),
    });
    await fc.assert(
      fc.asyncProperty(request, async ({ method, path: target, contentType, accept, extra, body }) => {
        const sendsBody = body !== undefined && method !== 'GET' && method !== 'HEAD';
        const response = await rawRequest(`${server.url}${target}`, {
          method,
          headers: { ...extra, accept, ...(sendsBody ? { 'content-type': contentType } : {}) },
          ...(sendsBody ? { body } : {}),
        });
        // Node's parser closes a connection whose request it cannot read; that is an answer too.
        if (response === null) return;
        expect(response.status, `${method} ${target}: ${response.text.slice(0, 300)}`).toBeLessThan(500);
        // GraphiQL is a bundle built elsewhere, whose comments name its bundler's paths; every other answer is checked.
        const graphiql = target.startsWith('/graphql') && response.headers['content-type']?.startsWith('text/html');
        if (!graphiql) expectNoLeak(response.text);
        expect(response.text).not.toContain('Unexpected error.');
      }),
      { seed: FUZZ_SEED, numRuns: fuzzRuns(250) },
    );
    await expectStillHealthy(mark);
  });

  const deepJson = `{"query":"{ __typename }","variables":{"a":${'['.repeat(10_000)}${']'.repeat(10_000)}}}`;
  const twoMegabytes = JSON.stringify({ query: '{ __typename }', variables: { filler: 'x'.repeat(2 * 1024 * 1024) } });
  it.each<[string, string, Uint8Array | string]>([
    ['JSON nested 10,000 deep', 'application/json', deepJson],
    ['an unclosed JSON array 10,000 deep', 'application/json', '['.repeat(10_000)],
    ['a 2 MB JSON body', 'application/json', twoMegabytes],
    ['2 MB of random bytes', 'application/json', randomBytes(2 * 1024 * 1024)],
    [
      'invalid UTF-8 inside a JSON string',
      'application/json',
      Buffer.from([...Buffer.from('{"query":"{ search(query: \\"'), 0xff, 0xfe, 0xc3, 0x28, ...Buffer.from('\\") { totalCount } }"}')]),
    ],
    ['UTF-16 with a byte order mark', 'application/json', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('{"query":"{ __typename }"}', 'utf16le')])],
    ['NUL bytes', 'application/json', Buffer.alloc(1024)],
    ['a gzip content type over a plain body', 'application/gzip', '{"query":"{ __typename }"}'],
    ['a multipart body without parts', 'multipart/form-data; boundary=x', '--x--\r\n'],
    ['a form with a query 100 KB long', 'application/x-www-form-urlencoded', `query=${'%7B'.repeat(30_000)}`],
  ])('answers a POST of %s with a 2xx or 4xx and stays up', async (_name, contentType, body) => {
    const mark = server.output().length;
    const response = await rawRequest(graphqlUrl(), {
      method: 'POST',
      headers: { 'content-type': contentType, accept: 'application/graphql-response+json' },
      body,
    });
    if (response) {
      expect(response.status, response.text.slice(0, 300)).toBeLessThan(500);
      expectNoLeak(response.text);
    }
    await expectStillHealthy(mark);
  });

  it('answers a request line or headers too long for it with a 4xx', async () => {
    const mark = server.output().length;
    const longUrl = await rawRequest(`${graphqlUrl()}?query=${'%7B'.repeat(40_000)}`, { headers: { accept: 'application/json' } });
    const longHeader = await rawRequest(graphqlUrl(), { headers: { accept: 'application/json', 'x-filler': 'x'.repeat(20_000) } });
    for (const response of [longUrl, longHeader]) {
      if (!response) continue;
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
    }
    await expectStillHealthy(mark);
  });

  const post = (headers: string, body: string) =>
    `POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n${headers}Connection: close\r\n\r\n${body}`;
  const query = '{"query":"{ latestIssue { number } }"}';
  it.each<[string, string, { hangUp?: boolean }]>([
    ['a Content-Length longer than the body, and a client that hangs up', post('Content-Length: 5000\r\n', query), { hangUp: true }],
    ['a Content-Length shorter than the body', post('Content-Length: 10\r\n', query), {}],
    [
      'Content-Length and chunked Transfer-Encoding together',
      post(`Content-Length: ${query.length}\r\nTransfer-Encoding: chunked\r\n`, `${query.length.toString(16)}\r\n${query}\r\n0\r\n\r\n`),
      {},
    ],
    ['a chunk size that is not hexadecimal', post('Transfer-Encoding: chunked\r\n', `zz\r\n${query}\r\n0\r\n\r\n`), {}],
    [
      'a chunked body that never ends, and a client that hangs up',
      post('Transfer-Encoding: chunked\r\n', `${query.length.toString(16)}\r\n${query}\r\n`),
      { hangUp: true },
    ],
    ['two different Content-Lengths', post(`Content-Length: ${query.length}\r\nContent-Length: 3\r\n`, query), {}],
    ['a negative Content-Length', post('Content-Length: -1\r\n', query), {}],
    ['a request line that is not HTTP', 'HELLO THERE\r\n\r\n', {}],
    ['a header without a colon', post('Broken header line\r\n', query), {}],
    ['a header with a bare line feed', `POST /graphql HTTP/1.1\nHost: x\nContent-Length: ${query.length}\nContent-Type: application/json\n\n${query}`, {}],
  ])('answers %s with no 5xx, or closes the connection, and stays up', async (_name, bytes, options) => {
    const mark = server.output().length;
    const statuses = await rawExchange(port, bytes, options);
    for (const status of statuses) expect(status).toBeLessThan(500);
    await expectStillHealthy(mark);
  });
});

// Found by these tests, and expected to fail until src/ is fixed; then delete `.fails`.
describe.runIf(testDialect === 'sqlite')('bugs the tests above found, fixed and guarded', () => {
  // graphql-js parses recursively: a document nested a few thousand levels deep overflows the
  // stack, which Yoga masks as a 500 ("Unexpected error."). A token limit before parsing stops it.
  const statusOf = async (query: string) =>
    (
      await rawRequest(graphqlUrl(), {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
        body: JSON.stringify({ query }),
      })
    )?.status;

  it('answers a selection set nested 3,000 deep with a 4xx, not a 500', async () => {
    expect(await statusOf(`{ ${'latestIssue { '.repeat(3000)}number${' }'.repeat(3000)} }`)).toBe(400);
  });

  it('answers a list value nested 3,000 deep with a 4xx, not a 500', async () => {
    expect(await statusOf(`{ search(query: ${'['.repeat(3000)}"red"${']'.repeat(3000)}) { totalCount } }`)).toBe(400);
  });

  // Yoga's parser of GET parameters and forms calls JSON.parse on `variables` and `extensions`
  // without catching: the SyntaxError becomes a 500. A JSON body with the same mistake is a 400.
  it('answers variables or extensions that are not JSON, in a URL or a form, with a 4xx, not a 500', async () => {
    const statuses = await Promise.all([
      rawRequest(`${graphqlUrl()}?query=%7B__typename%7D&variables=%7B`, { headers: { accept: 'application/json' } }),
      rawRequest(`${graphqlUrl()}?query=%7B__typename%7D&extensions=%7B`, { headers: { accept: 'application/json' } }),
      rawRequest(graphqlUrl(), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: 'query=%7B__typename%7D&variables=%7B',
      }),
    ]);
    expect(statuses.map((response) => response?.status)).toEqual([400, 400, 400]);
  });
});
