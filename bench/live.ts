// Live content, measured (`npx tsx bench/live.ts`): on each store, a `masthead serve` with
// LIVE_BENCH_STREAMS open subscription streams (default 1000), then LIVE_BENCH_PIECES pieces
// (default 200) imported by `masthead import` in another process. Reports, per store: commit →
// event latency at the subscribers (p50, p99, max over every event at every stream; the commit
// time is the feed entry's `occurredAt`, taken in the writer's transaction, so slightly early),
// the server's RSS before and with the streams open, and events per second delivered.
// LIVE_BENCH_STORES=sqlite,postgres picks the stores.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { runCli, startServerProcess } from '../tests/support/cli.ts';
import { createThrowawayStore, type TestDialect } from '../tests/support/store.ts';

const STREAMS = Number(process.env.LIVE_BENCH_STREAMS ?? 1000);
const PIECES = Number(process.env.LIVE_BENCH_PIECES ?? 200);
const STORES = (process.env.LIVE_BENCH_STORES ?? 'sqlite,postgres').split(',') as TestDialect[];
const QUERY = 'subscription { articleChanged { kind occurredAt article { id headline } } }';

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

async function rss(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^process_resident_memory_bytes (\d+)/m.exec(text)?.[1]);
}

/** The server's V8 heap in use (nodejs_heap_size_used_bytes): what is live, not what RSS keeps reserved. */
async function heapUsed(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^nodejs_heap_size_used_bytes (\d+)/m.exec(text)?.[1]);
}

interface Stream {
  latencies: number[];
  close(): void;
}

function openStream(url: string, onEvent: () => void): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const latencies: number[] = [];
    const request = http.request(
      `${url}/graphql`,
      { method: 'POST', headers: { accept: 'text/event-stream', 'content-type': 'application/json' } },
      (response) => {
        if (response.statusCode !== 200) {
          reject(new Error(`stream refused: ${response.statusCode}`));
          return;
        }
        let buffer = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          buffer += chunk;
          for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const data = /^data: (.*)$/m.exec(block)?.[1];
            if (!block.includes('event: next') || data === undefined) continue;
            const at = Date.now();
            const occurredAt = JSON.parse(data).data?.articleChanged?.occurredAt;
            if (occurredAt) latencies.push(at - Date.parse(occurredAt));
            onEvent();
          }
        });
        resolve({ latencies, close: () => request.destroy() });
      },
    );
    request.on('error', reject);
    request.end(JSON.stringify({ query: QUERY }));
  });
}

async function measure(dialect: TestDialect): Promise<void> {
  const store = await createThrowawayStore(dialect);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'masthead-live-bench-'));
  const env = {
    DATABASE_URL: store.databaseUrl,
    LOG_LEVEL: 'info',
    MAIL_SENDER: 'off',
    LIVE_MAX_STREAMS_PER_CLIENT: String(STREAMS + 10),
    LIVE_MAX_STREAMS: String(STREAMS + 10),
    RATE_LIMIT_PER_CLIENT: 'off',
  };
  await runCli(['migrate'], { DATABASE_URL: store.databaseUrl });
  const server = await startServerProcess(env);
  try {
    const idleRss = await rss(server.url);
    let received = 0;
    let firstAt = 0;
    let lastAt = 0;
    const onEvent = () => {
      received++;
      lastAt = Date.now();
      if (firstAt === 0) firstAt = lastAt;
    };
    const streams: Stream[] = [];
    for (let opened = 0; opened < STREAMS; opened += 100) {
      streams.push(...(await Promise.all(Array.from({ length: Math.min(100, STREAMS - opened) }, () => openStream(server.url, onEvent)))));
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const openRss = await rss(server.url);
    for (let n = 0; n < PIECES; n++) {
      writeFileSync(
        path.join(dir, `${String(n).padStart(4, '0')}.txt`),
        [
          'The Evening Ledger',
          `Measured piece number ${n + 1}`,
          'by Marta Quinlan\nIssue No. 5000',
          'A paragraph of the piece.',
          'Article information',
          'Sat 10 Jan 2026, 12:00 GMT\nShare this article',
        ].join('\n\n'),
      );
    }
    const started = Date.now();
    const imported = await new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, [path.resolve(import.meta.dirname, '../bin/masthead.js'), 'import', dir], {
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DATABASE_URL: store.databaseUrl },
        stdio: 'ignore',
      });
      child.on('close', resolve);
    });
    const expected = PIECES * STREAMS;
    for (let waited = 0; received < expected && waited < 60_000; waited += 100) await new Promise((resolve) => setTimeout(resolve, 100));
    const peakRss = await rss(server.url);
    const peakHeap = await heapUsed(server.url);
    const latencies = streams.flatMap((stream) => stream.latencies).sort((a, b) => a - b);
    for (const stream of streams) stream.close();
    // Memory once the streams are closed and the garbage had time to go: bounded if it falls back.
    await new Promise((resolve) => setTimeout(resolve, 5000));
    const [closedRss, closedHeap] = [await rss(server.url), await heapUsed(server.url)];
    console.log(
      JSON.stringify({
        store: dialect,
        streams: STREAMS,
        pieces: PIECES,
        importExit: imported,
        importMs: Date.now() - started,
        eventsExpected: expected,
        eventsReceived: received,
        latencyMs: { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), max: latencies.at(-1) },
        eventsPerSecond: Math.round(received / Math.max(0.001, (lastAt - firstAt) / 1000)),
        rssMiB: {
          idle: Math.round(idleRss / 2 ** 20),
          withStreams: Math.round(openRss / 2 ** 20),
          afterEvents: Math.round(peakRss / 2 ** 20),
          closed: Math.round(closedRss / 2 ** 20),
        },
        heapUsedMiB: { afterEvents: Math.round(peakHeap / 2 ** 20), closed: Math.round(closedHeap / 2 ** 20) },
      }),
    );
  } finally {
    await server.stop();
    await store.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const dialect of STORES) await measure(dialect);
