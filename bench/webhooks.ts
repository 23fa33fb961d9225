// Measurements for webhooks and CDN keys (issue 16), for the closing note. Run:
//   npx tsx bench/webhooks.ts [purge] [etag] [burst] [latency]      (all when none is named)
//
// purge:   on the demo corpus, the share of cached answers (a sample a site would cache: every
//          piece, author and issue, list pages, searches) that one piece's change purges.
// etag:    304 answers per second (If-None-Match) against full answers from the response cache,
//          autocannon against a `masthead serve` process (pinned to core 1 when taskset exists).
// latency: commit → webhook received, p50/p99 over 200 pieces stored by this process while a
//          `masthead serve` process turns the feed into deliveries, to 1 and to 20 endpoints,
//          with the receiver failing 30% of first attempts (retries at the default backoff).
// burst:   the same to 1 endpoint that never fails, the 200 pieces committed back to back.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { purgeKeys } from '../src/feed/cache-keys.ts';
import { storeDocument } from '../src/importer/import-documents.ts';
import { Metrics } from '../src/metrics.ts';
import { DEMO_CORPUS } from '../src/seed/demo-corpus.ts';
import { seedCorpus } from '../src/seed/seed.ts';
import { migrateToLatest } from '../src/store/migrate.ts';
import { openStore, type Store } from '../src/store/store.ts';
import { addWebhookEndpoint } from '../src/webhooks/endpoints.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const wanted = new Set(process.argv.slice(2));
const runs = (name: string) => wanted.size === 0 || wanted.has(name);
const log = (...parts: unknown[]) => console.log(...parts);

function pinned(): boolean {
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

interface Served {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** `masthead serve` (the compiled build: run `npm run build` first) on a free port. */
function serve(env: Record<string, string>): Promise<Served> {
  const args = [path.join(ROOT, 'bin/masthead.js'), 'serve'];
  const [command, argv] = pinned() ? ['taskset', ['-c', '1', process.execPath, ...args]] : [process.execPath, args];
  const child = spawn(command as string, argv as string[], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: '0', LOG_LEVEL: 'info', MAIL_SENDER: 'off', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const url = /serves (http:\/\/\S+)\/graphql/.exec(output)?.[1];
      if (url) {
        resolve({
          url,
          child,
          stop: () =>
            new Promise((done) => {
              child.once('close', () => done());
              child.kill('SIGTERM');
            }),
        });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('close', (code) => reject(new Error(`masthead serve exited with ${code}:\n${output}`)));
  });
}

function sqliteStore(): { store: Store; url: string; drop(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'masthead-bench-webhooks-'));
  const file = path.join(dir, 'store.sqlite');
  const store = openStore({ dialect: 'sqlite', file, embeddedDefault: false }, new Metrics());
  return { store, url: `sqlite:${file}`, drop: () => rmSync(dir, { recursive: true, force: true }) };
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;

async function getKeys(url: string, query: string): Promise<string[]> {
  const response = await fetch(`${url}/graphql?query=${encodeURIComponent(query)}`, { headers: { accept: 'application/json' } });
  await response.arrayBuffer();
  return (response.headers.get('surrogate-key') ?? '').split(' ').filter(Boolean);
}

async function purgeShare(): Promise<void> {
  const { store, url, drop } = sqliteStore();
  await migrateToLatest(store);
  await seedCorpus(store, DEMO_CORPUS);
  const server = await serve({ DATABASE_URL: url, DEMO_CONTENT: '0', WEBHOOK_SENDER: 'off' });
  try {
    const articles = await store.db.selectFrom('articles').select(['id', 'slug', 'issue_id']).orderBy('id').execute();
    const authors = await store.db.selectFrom('authors').select('slug').execute();
    const issues = await store.db.selectFrom('issues').select('number').execute();
    const queries = [
      ...articles.map((a) => `{ article(slug: "${a.slug}") { headline standfirst body publishedAt issue { number } authors { name slug } } }`),
      ...authors.map((a) => `{ author(slug: "${a.slug}") { name articleCount articles(first: 20) { edges { node { slug headline } } } } }`),
      ...issues.map(
        (i) =>
          `{ issue(number: ${i.number}) { number publishedOn articleCount contributors { name } articles(first: 50) { edges { node { slug headline } } } } }`,
      ),
      '{ articles(first: 20) { totalCount edges { node { slug headline authors { name } } } } }',
      '{ latestIssue { number articles(first: 10) { edges { node { headline } } } } }',
      '{ issues(first: 50) { edges { node { number articleCount } } } }',
      '{ authors(first: 50, orderBy: NAME_ASC) { edges { node { name } } } }',
      '{ authors(first: 20, orderBy: ARTICLE_COUNT_DESC) { edges { node { name articleCount } } } }',
      '{ newsletters { slug name } }',
      ...['strike', 'rent', 'council', 'union', 'war'].map((word) => `{ search(query: "${word}", first: 10) { edges { node { slug } } } }`),
    ];
    const answers: string[][] = [];
    for (const query of queries) answers.push(await getKeys(server.url, query));
    const shares: number[] = [];
    for (const article of articles) {
      const bylines = await store.db.selectFrom('bylines').select('author_id').where('article_id', '=', article.id).execute();
      const purged = new Set(
        purgeKeys({
          seq: 1,
          occurredAt: new Date(),
          kind: 'article.updated',
          articleId: article.id,
          issueIds: article.issue_id === null ? [] : [article.issue_id],
          authorIds: bylines.map((b) => b.author_id),
        }),
      );
      shares.push(answers.filter((keys) => keys.some((key) => purged.has(key))).length / answers.length);
    }
    shares.sort((a, b) => a - b);
    const mean = shares.reduce((sum, s) => sum + s, 0) / shares.length;
    log(`purge: ${answers.length} cached answers (demo corpus: ${articles.length} pieces, ${authors.length} authors, ${issues.length} issues)`);
    log(
      `purge: one piece edited in place purges on average ${(mean * 100).toFixed(1)}% of them (median ${(percentile(shares, 50) * 100).toFixed(1)}%, max ${(percentile(shares, 100) * 100).toFixed(1)}%, over ${shares.length} pieces)`,
    );
  } finally {
    await server.stop();
    await store.close();
    drop();
  }
}

async function etagRate(): Promise<void> {
  const { store, url, drop } = sqliteStore();
  await migrateToLatest(store);
  await seedCorpus(store, DEMO_CORPUS);
  const server = await serve({ DATABASE_URL: url, DEMO_CONTENT: '0', WEBHOOK_SENDER: 'off', RATE_LIMIT_PER_CLIENT: 'off' });
  try {
    const query = '{ articles(first: 20) { edges { node { slug headline publishedAt authors { name } issue { number } } } } }';
    const target = `${server.url}/graphql?query=${encodeURIComponent(query)}`;
    const first = await fetch(target, { headers: { accept: 'application/json' } });
    const etag = first.headers.get('etag') ?? '';
    const bytes = (await first.arrayBuffer()).byteLength;
    const run = async (headers: Record<string, string>) => {
      const result = await autocannon({ url: target, connections: 10, duration: 5, headers: { accept: 'application/json', ...headers } });
      return { perSecond: result.requests.average, statuses: { '2xx': result['2xx'], '3xx': result['3xx'], other: result.non2xx - result['3xx'] } };
    };
    await run({}); // warm-up
    // Each measured twice, interleaved, so that a change in the machine's load shows.
    const revalidated = await run({ 'if-none-match': etag });
    const full = await run({});
    const revalidatedAgain = await run({ 'if-none-match': etag });
    const fullAgain = await run({});
    log(`etag: ${pinned() ? 'server pinned to core 1; ' : ''}10 connections, 5 s each, a ${bytes}-byte answer`);
    log(`etag: full answers from the response cache ${full.perSecond.toFixed(0)}/s then ${fullAgain.perSecond.toFixed(0)}/s ${JSON.stringify(full.statuses)}`);
    log(`etag: 304 answers ${revalidated.perSecond.toFixed(0)}/s then ${revalidatedAgain.perSecond.toFixed(0)}/s ${JSON.stringify(revalidated.statuses)}`);
  } finally {
    await server.stop();
    await store.close();
    drop();
  }
}

/**
 * `failShare`: the share of first attempts the receiver fails; `gapMs`: the pause between two
 * commits (0: a burst, as an import makes).
 */
async function deliveryLatency(endpoints: number, pieces: number, failShare = 0.3, gapMs = 20): Promise<void> {
  const { store, url, drop } = sqliteStore();
  await migrateToLatest(store);
  await seedCorpus(store, { issues: 5, authors: 10, articles: 50, seed: 1 });
  const committed = new Map<string, number>();
  const latencies: number[] = [];
  const firstSeen = new Set<string>();
  let failedFirst = 0;
  let attempts = 0;
  let lastReceived = 0;
  const receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      attempts++;
      const id = `${request.url} ${request.headers['webhook-id']}`;
      if (!firstSeen.has(id)) {
        firstSeen.add(id);
        if (Math.random() < failShare) {
          failedFirst++;
          response.writeHead(503).end();
          return;
        }
      }
      response.writeHead(204).end();
      const event = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { type: string; data: { headline?: string } };
      const at = committed.get(event.data.headline ?? '');
      if (event.type === 'article.published' && at !== undefined) {
        lastReceived = performance.now();
        latencies.push(lastReceived - at);
      }
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  for (let i = 0; i < endpoints; i++) await addWebhookEndpoint(store, { url: `${hook}/e${i}`, events: 'article.published' }, true);
  // WEBHOOK_RETRY_BASE_MS from this process's environment, if set: each failed first attempt holds
  // its endpoint's later deliveries (feed order) for about that long.
  const retryBase = process.env.WEBHOOK_RETRY_BASE_MS;
  const server = await serve({
    DATABASE_URL: url,
    DEMO_CONTENT: '0',
    WEBHOOK_ALLOW_PRIVATE_ADDRESSES: '1',
    WEBHOOK_CONCURRENCY: '20',
    ...(retryBase === undefined ? {} : { WEBHOOK_RETRY_BASE_MS: retryBase }),
  });
  let firstCommit = 0;
  let lastCommit = 0;
  try {
    for (let i = 0; i < pieces; i++) {
      const headline = `Bench piece ${i} ${Date.now()}`;
      await storeDocument(store, {
        publication: 'Bench',
        headline,
        authors: ['Bench Writer'],
        issueNumber: 9000,
        body: ['A paragraph for the bench.'],
        standfirst: null,
        publishedAt: new Date(Date.now() - 1000).toISOString(),
        newsletter: null,
      });
      lastCommit = performance.now();
      if (i === 0) firstCommit = lastCommit;
      committed.set(headline, lastCommit);
      if (gapMs > 0) await new Promise((resolve) => setTimeout(resolve, gapMs));
    }
    const expected = pieces * endpoints;
    const deadline = Date.now() + 120_000;
    while (latencies.length < expected && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    latencies.sort((a, b) => a - b);
    log(
      `${gapMs === 0 ? 'burst' : 'latency'}: WEBHOOK_RETRY_BASE_MS=${retryBase ?? '(default)'}, ${endpoints} endpoint(s), ${pieces} pieces ${gapMs === 0 ? 'committed back to back' : `${gapMs} ms apart`} in ${(lastCommit - firstCommit).toFixed(0)} ms: ${latencies.length}/${expected} received, the last ${(lastReceived - lastCommit).toFixed(0)} ms after the last commit; commit → received p50 ${percentile(latencies, 50).toFixed(0)} ms, p99 ${percentile(latencies, 99).toFixed(0)} ms, max ${percentile(latencies, 100).toFixed(0)} ms; ${failedFirst} first attempts failed on purpose (${((failedFirst / Math.max(1, firstSeen.size)) * 100).toFixed(0)}%), ${attempts} attempts in all`,
    );
  } finally {
    await server.stop();
    receiver.close();
    receiver.closeAllConnections();
    await store.close();
    drop();
  }
}

if (runs('purge')) await purgeShare();
if (runs('etag')) await etagRate();
// A healthy receiver, 200 pieces committed back to back: the cost of an attempt shows.
if (runs('burst')) await deliveryLatency(1, 200, 0, 0);
if (runs('latency')) {
  await deliveryLatency(1, 200);
  await deliveryLatency(20, 200);
}
