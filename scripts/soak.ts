// A bounded soak: `masthead serve` as a child process on a throwaway store, a mixed workload on
// loopback for a set time, then a report of errors, throughput, latency and the server's memory
// at start, after warm-up, in the middle and at the end.
//
//   npm run soak                                   # 60 s, 8 clients, SQLite with 20,000 articles
//   SOAK_SECONDS=600 SOAK_CONCURRENCY=16 npm run soak
//   SOAK_ARTICLES=0 npm run soak                   # the demo corpus instead of a seeded one
//   SOAK_STORE=postgres npm run soak               # a throwaway database at MASTHEAD_TEST_POSTGRES_URL
//
// The second half of the run adds hostile clients (SOAK_HOSTILE=0 leaves them out): every attack
// that an outside test found (issue 13), interleaved with the normal traffic, which keeps going.
//
// Exits 1 on any 5xx, failed or unexpected answer, error logged by the server, when the server's
// memory after warm-up grows past SOAK_MAX_GROWTH times (RSS, or heap after a full GC), when its
// peak RSS passes SOAK_MAX_RSS_MB, or when the normal requests' p99 beside the hostile clients is
// more than SOAK_MAX_SLOWDOWN times their p99 alone.
// SOAK_PIN=1 pins the server and this load generator to different cores (two cores or more): right
// on a quiet machine, and a handicap on a busy one.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { print } from 'graphql';
import { ROOT, runCli, type ServerProcess, startServerProcess } from '../tests/support/cli.ts';
import { AuthorDashboardDocument, IssuePageDocument, SearchDocument, SubscribeDocument } from '../tests/generated/graphql.ts';
import { createThrowawayStore, type TestDialect } from '../tests/support/store.ts';

function setting(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) {
    console.error(`${name} must be a number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
    process.exit(2);
  }
  return value;
}

const SECONDS = setting('SOAK_SECONDS', 60, 1, 86_400);
const CONCURRENCY = setting('SOAK_CONCURRENCY', 8, 1, 1000);
const ARTICLES = setting('SOAK_ARTICLES', 20_000, 0, 10_000_000);
const WARMUP_SECONDS = setting('SOAK_WARMUP_SECONDS', Math.min(10, Math.max(1, Math.round(SECONDS / 5))), 0, SECONDS);
const MAX_GROWTH = setting('SOAK_MAX_GROWTH', 1.5, 1, 100);
const HOSTILE = process.env.SOAK_HOSTILE !== '0';
const MAX_RSS_MB = setting('SOAK_MAX_RSS_MB', 512, 16, 1_000_000);
const MAX_SLOWDOWN = setting('SOAK_MAX_SLOWDOWN', 3, 1, 1000);
/** A hostile request's answer may not be larger than this: a refusal is small, and so is a bounded answer. */
const MAX_HOSTILE_ANSWER_BYTES = 2 * 1024 * 1024;
const DIALECT: TestDialect = process.env.SOAK_STORE === 'postgres' ? 'postgres' : 'sqlite';
const REQUEST_TIMEOUT_MS = 10_000;

interface Memory {
  rss: number;
  heapUsed: number;
}

/** The server's memory after a full collection, from the probe loaded into it (scripts/soak-probe.mjs). */
function memoryOf(server: ServerProcess): Promise<Memory> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the server did not report its memory within 10 s')), 10_000);
    server.child.once('message', (message) => {
      clearTimeout(timer);
      resolve(message as Memory);
    });
    server.child.send('memory');
  });
}

/** Resident memory as the kernel counts it, without disturbing the process. */
function rssOf(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : Number.NaN;
}

const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** CPU seconds the process has used, user and system. */
function cpuSecondsOf(pid: number): number {
  // Fields 14 and 15 of /proc/PID/stat, counted after the command name (which may hold spaces).
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

function pinToCore(pid: number, core: number): boolean {
  return spawnSync('taskset', ['-a', '-p', '-c', String(core), String(pid)], { stdio: 'ignore' }).status === 0;
}

interface Tally {
  requests: number;
  errors: number;
  latencies: number[];
}

const statuses = new Map<number | string, number>();
const tallies = new Map<string, Tally>();
const errorSamples: string[] = [];

function record(operation: string, status: number | string, ms: number, problem: string | null): void {
  statuses.set(status, (statuses.get(status) ?? 0) + 1);
  const tally = tallies.get(operation) ?? { requests: 0, errors: 0, latencies: [] };
  tallies.set(operation, tally);
  tally.requests++;
  tally.latencies.push(ms);
  if (problem) {
    tally.errors++;
    if (errorSamples.length < 10) errorSamples.push(`${operation}: ${problem}`);
  }
}

interface Body {
  data?: Record<string, unknown> | null;
  errors?: Array<{ message: string; extensions?: { code?: string } }>;
}

/** What a hostile request's answer must be, beside never a 5xx: a function that names what is wrong, or null. */
type Check = (answer: { status: number; headers: Headers; text: string; body: Body | null }) => string | null;

/** Whether the run has reached the hostile half: normal requests' latencies are kept apart by half. */
const phase = { warm: false, hostile: false };
const normalLatencies = { alone: [] as number[], hostile: [] as number[] };

/**
 * Sends one request and records it. `expect` says what a right answer is: data without errors
 * (`data`), a 4xx (`4xx`), a 200 whose errors carry this code, or a check of its own.
 */
async function send(
  baseUrl: string,
  operation: string,
  init: { method?: string; path?: string; body?: string | ReadableStream<Uint8Array>; contentType?: string; headers?: Record<string, string> },
  expect: 'data' | '4xx' | { code: string } | Check,
): Promise<Body | null> {
  const started = performance.now();
  let status: number | string = 'failed';
  let problem: string | null = null;
  let body: Body | null = null;
  try {
    const response = await fetch(`${baseUrl}${init.path ?? '/graphql'}`, {
      method: init.method ?? 'POST',
      headers: { 'content-type': init.contentType ?? 'application/json', accept: 'application/graphql-response+json', ...init.headers },
      ...(init.body === undefined ? {} : { body: init.body }),
      ...(init.body instanceof ReadableStream ? { duplex: 'half' } : {}),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    } as RequestInit);
    status = response.status;
    const text = await response.text();
    try {
      body = JSON.parse(text) as Body;
    } catch {
      body = null;
    }
    if (response.status >= 500) problem = `HTTP ${response.status}: ${text.slice(0, 200)}`;
    else if (typeof expect === 'function') problem = expect({ status: response.status, headers: response.headers, text, body });
    else if (expect === '4xx') {
      if (response.status < 400) problem = `expected a 4xx, got ${response.status}`;
    } else if (expect === 'data') {
      if (response.status !== 200 || !body?.data || body.errors) problem = `HTTP ${response.status}: ${text.slice(0, 200)}`;
    } else if (!body?.errors?.some((error) => error.extensions?.code === expect.code)) {
      problem = `expected an error with code ${expect.code}: ${text.slice(0, 200)}`;
    }
  } catch (error) {
    problem = `request failed: ${String(error)}`;
  }
  const elapsed = performance.now() - started;
  record(operation, status, elapsed, problem);
  if (typeof expect !== 'function' && phase.warm) (phase.hostile ? normalLatencies.hostile : normalLatencies.alone).push(elapsed);
  return body;
}

interface Known {
  issueNumbers: number[];
  authorSlugs: string[];
  ids: string[];
  words: string[];
  newsletters: string[];
  /** A cursor of the default article order. */
  cursor: string;
}

async function learn(baseUrl: string): Promise<Known> {
  const response = await fetch(`${baseUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      query: `{
        issues(first: 100) { edges { node { id number } } }
        authors(first: 100, orderBy: ARTICLE_COUNT_DESC) { edges { node { id slug } } }
        articles(first: 100) { edges { cursor node { id headline } } }
        newsletters { slug }
      }`,
    }),
  });
  interface Nodes<T> {
    edges: Array<{ node: T }>;
  }
  const { data } = (await response.json()) as {
    data: {
      issues: Nodes<{ id: string; number: number }>;
      authors: Nodes<{ id: string; slug: string }>;
      articles: Nodes<{ id: string; headline: string }> & { edges: Array<{ cursor: string }> };
      newsletters: Array<{ slug: string }>;
    };
  };
  const words = new Set(data.articles.edges.flatMap((edge) => edge.node.headline.toLowerCase().match(/[a-z]{4,}/g) ?? []));
  const known: Known = {
    issueNumbers: data.issues.edges.map((edge) => edge.node.number),
    authorSlugs: data.authors.edges.map((edge) => edge.node.slug),
    ids: [data.issues, data.authors, data.articles].flatMap((connection) => connection.edges.map((edge) => edge.node.id)),
    words: [...words],
    newsletters: data.newsletters.map((newsletter) => newsletter.slug),
    cursor: data.articles.edges[0]?.cursor ?? '',
  };
  for (const [name, values] of Object.entries(known)) {
    if ((values as unknown[]).length === 0) throw new Error(`the store under soak has no ${name}`);
  }
  return known;
}

const pick = <T>(values: readonly T[]): T => values[Math.floor(Math.random() * values.length)] as T;

const ISSUE_PAGE = print(IssuePageDocument);
const AUTHOR_DASHBOARD = print(AuthorDashboardDocument);
const SEARCH = print(SearchDocument);
const SUBSCRIBE = print(SubscribeDocument);
const NODE = `query Node($id: ID!) {
  node(id: $id) {
    id
    ... on Article { headline publishedAt authors { name } issue { number } }
    ... on Author { name articleCount lastPublishedAt }
    ... on Issue { number articleCount contributors { name } }
  }
}`;
const BY_AUTHOR = `query ByAuthor($slug: String!, $after: DateTime) {
  articles(first: 20, filter: { authorSlug: $slug, publishedAfter: $after }, orderBy: PUBLISHED_AT_ASC) {
    totalCount edges { node { headline publishedAt } }
  }
}`;

/** Requests no client should send; each must get the 4xx (or the error code) it deserves. */
const MALFORMED: Array<{ name: string; init: { method?: string; path?: string; body?: string; contentType?: string }; expect: '4xx' | { code: string } }> = [
  { name: 'bad JSON', init: { body: '{"query": "{ latestIssue' }, expect: '4xx' },
  { name: 'unknown field', init: { body: JSON.stringify({ query: '{ latestIssue { nope } }' }) }, expect: '4xx' },
  { name: 'no query', init: { body: JSON.stringify({ variables: {} }) }, expect: '4xx' },
  { name: 'wrong content type', init: { body: '<query/>', contentType: 'application/xml' }, expect: '4xx' },
  {
    name: 'mutation over GET',
    init: { method: 'GET', path: `/graphql?query=${encodeURIComponent('mutation { unsubscribe(token: "x") { userErrors { code } } }')}` },
    expect: '4xx',
  },
  { name: 'first: 500', init: { body: JSON.stringify({ query: '{ articles(first: 500) { totalCount } }' }) }, expect: { code: 'BAD_USER_INPUT' } },
  { name: 'made-up cursor', init: { body: JSON.stringify({ query: '{ articles(after: "nope") { totalCount } }' }) }, expect: { code: 'BAD_USER_INPUT' } },
];

const sized =
  (limit: number): Check =>
  ({ text }) =>
    Buffer.byteLength(text) > limit ? `an answer of ${Buffer.byteLength(text).toLocaleString('en')} bytes` : null;
const refused: Check = ({ status, text }) =>
  status >= 400 && status < 500
    ? sized(64 * 1024)({ status, headers: new Headers(), text, body: null })
    : `expected a 4xx, got ${status}: ${text.slice(0, 200)}`;
const withCode =
  (code: string): Check =>
  ({ body, text }) =>
    body?.errors?.some((error) => error.extensions?.code === code) ? null : `expected an error with code ${code}: ${text.slice(0, 200)}`;
/** Any answer but a 5xx, small enough, and no internal message. */
const bounded: Check = (answer) =>
  sized(MAX_HOSTILE_ANSWER_BYTES)(answer) ??
  (/not been implemented|does not support|Unexpected token|stack|RangeError/i.test(answer.text) ? `an internal message: ${answer.text.slice(0, 200)}` : null);

/** A body of `bytes` bytes, sent in chunks without a stated length. */
function chunkedBody(bytes: number): ReadableStream<Uint8Array> {
  const chunk = new Uint8Array(64 * 1024).fill(0x61);
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= bytes) return controller.close();
      sent += chunk.length;
      controller.enqueue(chunk);
    },
  });
}

const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
const json = (value: unknown) => JSON.stringify(value);

function fragmentChain(length: number): string {
  const fragments = Array.from({ length }, (_, i) => `fragment F${i} on Query{...F${i + 1} ...F${i + 1}}`);
  return `query{...F0} ${fragments.join(' ')} fragment F${length} on Query{__typename}`;
}

function nestedArrays(depth: number): string {
  return `${'['.repeat(depth)}"x"${']'.repeat(depth)}`;
}

/** A cursor of the default article order, with its time replaced. */
function cursorAt(cursor: string, time: string): string {
  const values = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
  return Buffer.from(JSON.stringify(values.map((value) => (typeof value === 'string' && /^\d{4}-/.test(value) ? time : value))), 'utf8').toString('base64url');
}

/** The attacks of issue 13, each with what a right answer is; a hostile client sends them in turn. */
function hostileRequests(known: Known): Array<{ name: string; init: Parameters<typeof send>[2] | (() => Parameters<typeof send>[2]); expect: Check }> {
  const introspection = `{ ${Array.from({ length: 226 }, (_, i) => `s${i}: __schema { types { name fields { name type { name ofType { name } } } } }`).join(' ')} }`;
  const authorKeys = known.ids.filter((id) => Buffer.from(id, 'base64').toString('utf8').startsWith('Author:'));
  const representations = (count: number) => Array.from({ length: count }, (_, i) => ({ __typename: 'Author', id: authorKeys[i % authorKeys.length] }));
  const entities = 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Author { name articles(first: 100) { edges { node { headline } } } } } }';
  return [
    { name: 'fragment chain (30)', init: { body: json({ query: fragmentChain(30) }) }, expect: bounded },
    { name: 'introspection aliases (batch of 10)', init: { body: json(Array.from({ length: 10 }, () => ({ query: introspection }))) }, expect: bounded },
    { name: '_entities × 400', init: { body: json({ query: entities, variables: { r: representations(400) } }) }, expect: bounded },
    { name: '_entities × 6,000', init: { body: json({ query: entities, variables: { r: representations(6000) } }) }, expect: bounded },
    {
      name: 'large answers',
      init: () => ({
        body: json({
          query: 'query($after: DateTime) { articles(first: 100, filter: { publishedAfter: $after }) { edges { node { headline body } } } }',
          variables: { after: new Date(Date.UTC(2000, 0, 1) + Math.floor(Math.random() * 1e6) * 1000).toISOString() },
        }),
      }),
      expect: (answer) => (answer.status === 200 && answer.body?.data && !answer.body.errors ? null : `HTTP ${answer.status}: ${answer.text.slice(0, 200)}`),
    },
    {
      name: 'chunked 8 MB to /subscriptions/confirm',
      init: () => ({ path: '/subscriptions/confirm', contentType: 'application/x-www-form-urlencoded', body: chunkedBody(8 * 1024 * 1024) }),
      expect: refused,
    },
    { name: 'chunked 8 MB to /graphql', init: () => ({ body: chunkedBody(8 * 1024 * 1024) }), expect: refused },
    {
      name: '5 MB body to /graphql',
      init: { body: json({ query: `{ __typename }`, padding: 'x'.repeat(5 * 1024 * 1024) }) },
      expect: ({ status }) => (status === 413 ? null : `expected a 413, got ${status}`),
    },
    {
      name: '600 parents in one request',
      init: {
        body: json({
          query: `{ ${Array.from({ length: 6 }, (_, i) => `a${i}: authors(first: 100) { edges { node { articles(first: 1) { totalCount } } } }`).join(' ')} }`,
        }),
      },
      expect: (answer) => (answer.status === 200 && !answer.body?.errors ? null : `HTTP ${answer.status}: ${answer.text.slice(0, 200)}`),
    },
    {
      name: 'a date past 9999',
      init: { body: json({ query: '{ articles(filter: { publishedAfter: "9999-12-31T23:59:00-23:59" }) { totalCount } }' }) },
      expect: withCode('BAD_USER_INPUT'),
    },
    {
      name: 'a cursor on 2023-06-31',
      init: { body: json({ query: `{ articles(first: 1, after: "${cursorAt(known.cursor, '2023-06-31T00:00:00.000Z')}") { totalCount } }` }) },
      expect: withCode('BAD_USER_INPUT'),
    },
    {
      name: 'a cursor on 0000-01-01',
      init: { body: json({ query: `{ articles(first: 1, after: "${cursorAt(known.cursor, '0000-01-01T00:00:00.000Z')}") { totalCount } }` }) },
      expect: withCode('BAD_USER_INPUT'),
    },
    {
      name: 'a representation 10,000 arrays deep',
      init: {
        body: `{"query":"query($r:[_Any!]!){_entities(representations:$r){__typename}}","variables":{"r":[{"__typename":"Author","id":${nestedArrays(10_000)}}]}}`,
      },
      expect: bounded,
    },
    ...['article:1', 'Query:1', 'Node:1'].map((id) => ({
      name: `node(id) of ${id}`,
      init: { body: json({ query: `{ node(id: "${base64(id)}") { id } }` }) },
      expect: bounded,
    })),
    {
      name: 'JSON cut short',
      init: { body: '{"query": "{ latestIssue { number } }", "variables": {"a": [1, 2' },
      expect: (answer) => refused(answer) ?? bounded(answer),
    },
    {
      name: '_entities with an id of no one',
      init: {
        body: json({ query: 'query($r:[_Any!]!){_entities(representations:$r){__typename}}', variables: { r: [{ __typename: 'Author', id: 'bogus-id' }] } }),
      },
      expect: ({ body, text }) =>
        body?.data && (body.data._entities as unknown[])?.[0] === null && !body.errors ? null : `expected _entities [null]: ${text.slice(0, 200)}`,
    },
    {
      name: 'GET with an error',
      init: { method: 'GET', path: `/graphql?query=${encodeURIComponent('{ articles(first: 500) { totalCount } }')}` },
      expect: ({ headers }) =>
        /public/.test(headers.get('cache-control') ?? '') ? `an answer with errors is cached publicly: ${headers.get('cache-control')}` : null,
    },
    {
      name: 'X-Forwarded-For with a port',
      init: { headers: { 'x-forwarded-for': '203.0.113.7:4000, 198.51.100.9:80' }, body: json({ query: '{ __typename }' }) },
      expect: (answer) => (answer.status === 200 ? null : `HTTP ${answer.status}`),
    },
  ];
}

/** A hostile client: the attacks back to back, in turn, until the deadline. */
async function hostileClient(baseUrl: string, known: Known, deadline: number, offset: number): Promise<void> {
  const requests = hostileRequests(known);
  for (let i = offset; performance.now() < deadline; i++) {
    const request = requests[i % requests.length]!;
    await send(baseUrl, `hostile: ${request.name}`, typeof request.init === 'function' ? request.init() : request.init, request.expect);
  }
}

/** One client: requests back to back until the deadline, a mix of what readers and editors ask. */
async function client(baseUrl: string, known: Known, deadline: number, runId: string, counter: { next: number }): Promise<void> {
  const mix: Array<[number, () => Promise<unknown>]> = [
    [
      25,
      async () => {
        const number = pick(known.issueNumbers);
        const body = await send(baseUrl, 'issue page', { body: JSON.stringify({ query: ISSUE_PAGE, variables: { number, first: 20 } }) }, 'data');
        // Now and then the reader turns the page.
        const page = (body?.data?.issue as { articles?: { pageInfo: { hasNextPage: boolean; endCursor: string | null } } } | null)?.articles?.pageInfo;
        if (page?.hasNextPage && page.endCursor && Math.random() < 0.3) {
          const variables = { number, first: 20, after: page.endCursor };
          await send(baseUrl, 'issue page', { body: JSON.stringify({ query: ISSUE_PAGE, variables }) }, 'data');
        }
      },
    ],
    [15, () => send(baseUrl, 'author dashboard', { body: JSON.stringify({ query: AUTHOR_DASHBOARD, variables: { slug: pick(known.authorSlugs) } }) }, 'data')],
    [
      20,
      () => {
        const query = Math.random() < 0.5 ? pick(known.words) : `${pick(known.words)} ${pick(known.words)}`;
        return send(baseUrl, 'search', { body: JSON.stringify({ query: SEARCH, variables: { query } }) }, 'data');
      },
    ],
    [15, () => send(baseUrl, 'node lookup', { body: JSON.stringify({ query: NODE, variables: { id: pick(known.ids) } }) }, 'data')],
    [
      10,
      () => {
        const after = new Date(Date.UTC(2000 + Math.floor(Math.random() * 26), 0, 1)).toISOString();
        return send(baseUrl, 'articles by author', { body: JSON.stringify({ query: BY_AUTHOR, variables: { slug: pick(known.authorSlugs), after } }) }, 'data');
      },
    ],
    [
      5,
      () => {
        const email = `soak-${runId}-${counter.next++}@example.org`;
        return send(baseUrl, 'subscribe', { body: JSON.stringify({ query: SUBSCRIBE, variables: { email, newsletter: pick(known.newsletters) } }) }, 'data');
      },
    ],
    [
      10,
      () => {
        const malformed = pick(MALFORMED);
        return send(baseUrl, 'malformed', malformed.init, malformed.expect);
      },
    ],
  ];
  const total = mix.reduce((sum, [weight]) => sum + weight, 0);
  while (performance.now() < deadline) {
    let roll = Math.random() * total;
    for (const [weight, run] of mix) {
      roll -= weight;
      if (roll < 0) {
        await run();
        break;
      }
    }
  }
}

const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
const ms = (value: number) => (value < 10 ? value.toFixed(1) : value.toFixed(0));

async function main(): Promise<number> {
  const runId = Math.random().toString(36).slice(2, 8);
  const store = await createThrowawayStore(DIALECT);
  const mailDir = mkdtempSync(path.join(os.tmpdir(), 'masthead-soak-mail-'));
  let server: ServerProcess | undefined;
  try {
    let corpus = 'the demo corpus';
    if (ARTICLES > 0) {
      const started = performance.now();
      const size = { articles: ARTICLES, authors: Math.max(60, Math.round(ARTICLES / 50)), issues: Math.max(100, Math.round(ARTICLES / 200)) };
      const seeded = await runCli(
        ['seed', '--articles', String(size.articles), '--authors', String(size.authors), '--issues', String(size.issues), '--seed', '1'],
        { DATABASE_URL: store.databaseUrl },
      );
      if (seeded.code !== 0) throw new Error(`masthead seed failed:\n${seeded.stderr}`);
      corpus = `${size.articles.toLocaleString('en')} seeded articles (${size.authors} authors, ${size.issues} issues; seeded in ${((performance.now() - started) / 1000).toFixed(1)} s)`;
    }
    server = await startServerProcess(
      {
        DATABASE_URL: store.databaseUrl,
        DEMO_CONTENT: ARTICLES > 0 ? '0' : '1',
        MAIL_DIR: mailDir,
        // Every client of the soak is one address: with the limits on, it would measure the limiters.
        // (A server without request limits ignores RATE_LIMIT_PER_CLIENT.)
        SUBSCRIBE_RATE_PER_CLIENT: 'off',
        SUBSCRIBE_RATE_PER_EMAIL: 'off',
        RATE_LIMIT_PER_CLIENT: 'off',
      },
      undefined,
      ROOT,
      { nodeArgs: ['--expose-gc', '--import', pathToFileURL(path.join(import.meta.dirname, 'soak-probe.mjs')).href], ipc: true },
    );
    const running = server;
    const pid = running.child.pid;
    if (pid === undefined) throw new Error('the server has no pid');
    const pinned = os.availableParallelism() >= 2 && process.env.SOAK_PIN === '1' && pinToCore(pid, 1) && pinToCore(process.pid, 0);

    console.log(
      `Masthead soak: ${SECONDS} s, ${CONCURRENCY} clients, ${DIALECT === 'sqlite' ? 'SQLite' : 'PostgreSQL'} with ${corpus}` +
        `${pinned ? '; server on core 1, load on core 0' : ''}`,
    );
    const known = await learn(running.url);
    const atStart = await memoryOf(running);

    const cpuAtStart = cpuSecondsOf(pid);
    const started = performance.now();
    const deadline = started + SECONDS * 1000;
    const checkpoints: Array<{ label: string; memory: Memory }> = [{ label: 'at start (idle, before load)', memory: atStart }];
    let peakRss = atStart.rss;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, rssOf(pid));
    }, 1000);
    // Memory after warm-up (the baseline), at each quarter of the run (the half is the middle), and at the end.
    const marks = [
      { label: `after warm-up (${WARMUP_SECONDS} s)`, at: WARMUP_SECONDS },
      ...[1, 2, 3]
        .map((quarter) => ({ label: quarter === 2 ? `middle (${SECONDS / 2} s)` : `${(SECONDS * quarter) / 4} s`, at: (SECONDS * quarter) / 4 }))
        .filter((mark) => mark.at > WARMUP_SECONDS),
    ];
    const probeMemory = async () => {
      for (const mark of marks) {
        await new Promise((resolve) => setTimeout(resolve, started + mark.at * 1000 - performance.now()));
        checkpoints.push({ label: mark.label, memory: await memoryOf(running) });
      }
      return checkpoints[1]?.memory;
    };
    const counter = { next: 0 };
    // Normal traffic alone from the warm-up to the half, then beside the hostile clients.
    const hostileFrom = started + Math.max(WARMUP_SECONDS, SECONDS / 2) * 1000;
    const hostileClients = HOSTILE ? Math.max(1, Math.round(CONCURRENCY / 4)) : 0;
    const phases = async () => {
      await new Promise((resolve) => setTimeout(resolve, started + WARMUP_SECONDS * 1000 - performance.now()));
      phase.warm = true;
      if (hostileClients === 0) return;
      await new Promise((resolve) => setTimeout(resolve, hostileFrom - performance.now()));
      phase.hostile = true;
      await Promise.all(Array.from({ length: hostileClients }, (_, i) => hostileClient(running.url, known, deadline, i * 5)));
    };
    const [, warm] = await Promise.all([
      Promise.all(Array.from({ length: CONCURRENCY }, () => client(running.url, known, deadline, runId, counter))),
      probeMemory(),
      phases(),
    ]);
    const elapsed = (performance.now() - started) / 1000;
    const serverCpu = cpuSecondsOf(pid) - cpuAtStart;
    clearInterval(sampler);
    const atEnd = await memoryOf(running);
    checkpoints.push({ label: `end (${Math.round(elapsed)} s)`, memory: atEnd });

    const exitCode = await running.stop();
    server = undefined;
    const loggedErrors = running
      .output()
      .split('\n')
      .filter((line) => /^\S+ error /.test(line));

    // The report.
    const all = [...tallies.values()];
    const requests = all.reduce((sum, tally) => sum + tally.requests, 0);
    const errors = all.reduce((sum, tally) => sum + tally.errors, 0);
    const latencies = all.flatMap((tally) => tally.latencies).sort((a, b) => a - b);
    const serverErrors = [...statuses].filter(([status]) => typeof status !== 'number' || status >= 500).reduce((sum, [, n]) => sum + n, 0);
    console.log(
      `\nrequests  ${requests.toLocaleString('en')} in ${elapsed.toFixed(1)} s: ${Math.round(requests / elapsed).toLocaleString('en')}/s; ` +
        `errors ${errors} (5xx or failed: ${serverErrors})`,
    );
    console.log(
      `statuses  ${[...statuses]
        .sort()
        .map(([status, n]) => `${status}: ${n.toLocaleString('en')}`)
        .join(', ')}`,
    );
    console.log(
      `server    ${serverCpu.toFixed(1)} CPU s in ${elapsed.toFixed(1)} s (${Math.round((serverCpu / elapsed) * 100)}% of a core), ` +
        `${ms((serverCpu * 1000) / Math.max(requests, 1))} ms of CPU a request; load average ${os.loadavg()[0]?.toFixed(1)} on ${os.availableParallelism()} cores`,
    );
    console.log(`latency   p50 ${ms(percentile(latencies, 50))} ms, p99 ${ms(percentile(latencies, 99))} ms, max ${ms(latencies.at(-1) ?? Number.NaN)} ms\n`);
    console.log('| operation | requests | per s | p50 ms | p99 ms | errors |\n| --- | ---: | ---: | ---: | ---: | ---: |');
    for (const [operation, tally] of tallies) {
      const sorted = tally.latencies.sort((a, b) => a - b);
      console.log(
        `| ${operation} | ${tally.requests.toLocaleString('en')} | ${Math.round(tally.requests / elapsed)} | ${ms(percentile(sorted, 50))} | ${ms(percentile(sorted, 99))} | ${tally.errors} |`,
      );
    }
    console.log('\n| server memory, after a full GC | RSS MB | heap used MB |\n| --- | ---: | ---: |');
    for (const { label, memory } of checkpoints) console.log(`| ${label} | ${mb(memory.rss)} | ${mb(memory.heapUsed)} |`);
    console.log(`| peak RSS during the run (every second) | ${mb(peakRss)} | |`);

    const base = warm ?? atStart;
    const rssGrowth = atEnd.rss / base.rss;
    const heapGrowth = atEnd.heapUsed / base.heapUsed;
    const peakWithin = peakRss <= MAX_RSS_MB * 1024 * 1024;
    const bounded = rssGrowth <= MAX_GROWTH && heapGrowth <= MAX_GROWTH && peakWithin;
    console.log(
      `\nmemory    end / after warm-up: RSS ${rssGrowth.toFixed(2)}×, heap ${heapGrowth.toFixed(2)}× (limit ${MAX_GROWTH}×); ` +
        `peak RSS ${mb(peakRss)} MB (limit ${MAX_RSS_MB} MB): ${bounded ? 'bounded' : peakWithin ? 'GROWING' : 'OVER THE LIMIT'}`,
    );
    let steady = true;
    if (hostileClients > 0) {
      const alone = percentile(
        normalLatencies.alone.sort((a, b) => a - b),
        99,
      );
      const beside = percentile(
        normalLatencies.hostile.sort((a, b) => a - b),
        99,
      );
      steady = beside <= alone * MAX_SLOWDOWN;
      console.log(
        `hostile   ${hostileClients} hostile clients from ${Math.round((hostileFrom - started) / 1000)} s: normal requests' p99 ${ms(alone)} ms alone, ` +
          `${ms(beside)} ms beside them (${(beside / alone).toFixed(2)}×, limit ${MAX_SLOWDOWN}×): ${steady ? 'steady' : 'SLOWED'}`,
      );
    }
    console.log(`shutdown  SIGTERM → exit code ${exitCode}; ${loggedErrors.length} error lines in the server's log`);
    for (const sample of errorSamples) console.log(`  error: ${sample}`);
    for (const line of loggedErrors.slice(0, 5)) console.log(`  log: ${line}`);
    const passed = errors === 0 && bounded && steady && exitCode === 0 && loggedErrors.length === 0;
    console.log(passed ? '\nPASS' : '\nFAIL');
    return passed ? 0 : 1;
  } finally {
    await server?.kill();
    await store.drop();
    rmSync(mailDir, { recursive: true, force: true });
  }
}

process.exitCode = await main();
