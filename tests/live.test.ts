import { connect } from 'node:net';
import { createClient } from 'graphql-sse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Metrics } from '../src/metrics.ts';
import { openStore, type Store } from '../src/store/store.ts';
import { runCli, type ServerProcess, startServerProcess } from './support/cli.ts';
import { DocumentFolder, type DocumentParts, insertPieceAtPrompt, latestFeedSeq } from './support/documents.ts';
import { openStream, type OpenStream } from './support/event-stream.ts';
import { createThrowawayStore, type ThrowawayStore } from './support/store.ts';

// Subscriptions over Server-Sent Events, through the public surface: real server processes on
// one store, `masthead import` in another process, an editor at a SQL prompt.

const documents = new DocumentFolder('masthead-live-');
let throwaway: ThrowawayStore;
let editor: Store;
let first: ServerProcess;
let second: ServerProcess;
const opened: OpenStream[] = [];

const SETTINGS = { LIVE_HEARTBEAT_SECONDS: '1', LIVE_MAX_STREAMS_PER_CLIENT: '300', LIVE_MAX_STREAMS: '400', MAIL_SENDER: 'off' };

function env(extra: Record<string, string> = {}): Record<string, string> {
  return { DATABASE_URL: throwaway.databaseUrl, ...SETTINGS, ...extra };
}

function document(headline: string, parts: DocumentParts = {}): string {
  return documents.write(headline, parts);
}

async function importFiles(...files: string[]): Promise<void> {
  const result = await runCli(['import', ...files], { DATABASE_URL: throwaway.databaseUrl });
  expect(result.code, result.stderr).toBe(0);
}

async function stream(server: ServerProcess, query: string, options: Parameters<typeof openStream>[2] = {}): Promise<OpenStream> {
  const opening = await openStream(server.url, query, options);
  opened.push(opening);
  return opening;
}

function payload(event: { data: string }): { data?: Record<string, unknown>; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> } {
  return JSON.parse(event.data);
}

async function insertPiece(headline: string, publishedAt: string, status: 'published' | 'draft'): Promise<number> {
  return insertPieceAtPrompt(editor.db, headline, publishedAt, status);
}

beforeAll(async () => {
  throwaway = await createThrowawayStore();
  const migrated = await runCli(['migrate'], { DATABASE_URL: throwaway.databaseUrl });
  expect(migrated.code, migrated.stderr).toBe(0);
  editor = openStore(throwaway.location, new Metrics());
  [first, second] = await Promise.all([startServerProcess(env()), startServerProcess(env())]);
});
afterAll(async () => {
  for (const opening of opened) opening.close();
  await Promise.all([first?.stop(), second?.stop()]);
  await editor?.close();
  await throwaway?.drop();
  documents.remove();
});

describe('subscriptions over server-sent events', () => {
  it('delivers a piece imported by another process to the subscribers of both instances within a second, with the feed sequence as the event id', async () => {
    const query = 'subscription { articlePublished { headline authors { name } issue { number } } }';
    const [a, b] = await Promise.all([stream(first, query), stream(second, query, { method: 'GET' })]);
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    expect(a.headers.get('content-type')).toMatch(/^text\/event-stream/);
    await importFiles(document('Tenants win repairs after rent strike'));
    const imported = Date.now();
    const [fromA, fromB] = await Promise.all([a.next(1000), b.next(1000)]);
    expect(Date.now() - imported).toBeLessThan(1000);
    for (const event of [fromA, fromB]) {
      expect(event.event).toBe('next');
      expect(event.id).toMatch(/^\d+$/);
      expect(payload(event).data).toEqual({
        articlePublished: { headline: 'Tenants win repairs after rent strike', authors: [{ name: 'Marta Quinlan' }], issue: { number: 3400 } },
      });
    }
    expect(fromA.id).toBe(fromB.id);
  });

  it('serves graphql-sse clients: articleChanged and issuePublished as the client library reads them', async () => {
    const client = createClient({ url: `${first.url}/graphql`, singleConnection: false, retryAttempts: 0 });
    const changes: unknown[] = [];
    const issues: unknown[] = [];
    const stopChanges = client.subscribe<Record<string, unknown>>(
      { query: 'subscription { articleChanged { kind article { headline } } }' },
      { next: (value) => changes.push(value.data), error: () => {}, complete: () => {} },
    );
    const stopIssues = client.subscribe<Record<string, unknown>>(
      { query: 'subscription { issuePublished { number } }' },
      { next: (value) => issues.push(value.data), error: () => {}, complete: () => {} },
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    await importFiles(document('A new issue begins', { issue: 3401 }));
    for (let waited = 0; (changes.length < 1 || issues.length < 1) && waited < 2000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
    stopChanges();
    stopIssues();
    client.dispose();
    expect(changes).toEqual([{ articleChanged: { kind: 'PUBLISHED', article: { headline: 'A new issue begins' } } }]);
    expect(issues).toEqual([{ issuePublished: { number: 3401 } }]);
  });

  it('filters articlePublished by issue number and author slug', async () => {
    const byIssue = await stream(first, 'subscription { articlePublished(issueNumber: 3402) { headline } }');
    const byAuthor = await stream(first, 'subscription { articlePublished(authorSlug: "ada-nwosu") { headline } }');
    await importFiles(document('In issue 3402', { issue: 3402 }), document('A report from Ada', { byline: 'Ada Nwosu' }));
    expect(payload(await byIssue.next(2000)).data).toEqual({ articlePublished: { headline: 'In issue 3402' } });
    expect(payload(await byAuthor.next(2000)).data).toEqual({ articlePublished: { headline: 'A report from Ada' } });
    expect(await byIssue.collect(300)).toEqual([]);
  });

  it('gives streams of the same subscription the same events, also one that replays from behind, while a filtered one gets only its own', async () => {
    const latest = await latestFeedSeq(editor.db);
    const query = 'subscription { articlePublished { headline issue { number } } }';
    const [live, alsoLive, filtered] = await Promise.all([
      stream(first, query),
      stream(first, query, { method: 'GET' }),
      stream(first, 'subscription { articlePublished(issueNumber: 3404) { headline issue { number } } }'),
    ]);
    await importFiles(document('Shared, in issue 3403', { issue: 3403 }), document('Shared, in issue 3404', { issue: 3404 }));
    const seen = [await live.next(2000), await live.next(2000)];
    expect(seen.map((event) => payload(event).data)).toEqual([
      { articlePublished: { headline: 'Shared, in issue 3403', issue: { number: 3403 } } },
      { articlePublished: { headline: 'Shared, in issue 3404', issue: { number: 3404 } } },
    ]);
    expect([await alsoLive.next(2000), await alsoLive.next(2000)]).toEqual(seen);
    // Same document, joined later from before both entries: replayed in order, the same bytes, then live.
    const behind = await stream(first, query, { lastEventId: String(latest) });
    expect([await behind.next(2000), await behind.next(2000)]).toEqual(seen);
    const only = await filtered.next(2000);
    expect(only).toEqual(seen[1]);
    await importFiles(document('Shared, later', { issue: 3403 }));
    const later = await live.next(2000);
    expect(await behind.next(2000)).toEqual(later);
    expect(await alsoLive.next(2000)).toEqual(later);
    expect([...(await live.collect(300)), ...(await behind.collect(0)), ...(await alsoLive.collect(0)), ...(await filtered.collect(0))]).toEqual([]);
  });

  it('never announces a draft, and tells the public of a withdrawn piece with article null', async () => {
    const changes = await stream(second, 'subscription { articleChanged { kind id article { headline } } }');
    const draft = await insertPiece('A draft that stays a draft', '2026-01-02T00:00:00.000Z', 'draft');
    await editor.db.updateTable('articles').set({ body: 'Still a draft.' }).where('id', '=', draft).execute();
    const id = await insertPiece('Out, then withdrawn', '2026-01-03T00:00:00.000Z', 'published');
    // Each event's article is resolved when it is delivered: read the first before withdrawing.
    const published = payload(await changes.next(2000)).data?.articleChanged as Record<string, unknown>;
    await editor.db.updateTable('articles').set({ status: 'draft' }).where('id', '=', id).execute();
    const withdrawn = payload(await changes.next(2000)).data?.articleChanged as Record<string, unknown>;
    expect(published).toMatchObject({ kind: 'PUBLISHED', article: { headline: 'Out, then withdrawn' } });
    expect(withdrawn).toEqual({ kind: 'WITHDRAWN', id: published.id, article: null });
    expect(Buffer.from(String(published.id), 'base64').toString()).toBe(`Article:${id}`);
    expect(await changes.collect(300)).toEqual([]);
  });

  it("lets an editor's key preview what the public may not see: a withdrawn piece's article, as a query with that key would", async () => {
    const created = await runCli(['keys', 'create', '--role', 'editor', '--name', 'Live desk'], { DATABASE_URL: throwaway.databaseUrl });
    expect(created.code, created.stderr).toBe(0);
    const query = 'subscription { articleChanged { kind article { headline status } } }';
    const desk = await stream(first, query, { headers: { authorization: `Bearer ${created.stdout.trim()}` } });
    const reader = await stream(first, query);
    const id = await insertPiece('Out, then back to the desk', '2026-01-04T00:00:00.000Z', 'published');
    const published = payload(await desk.next(2000)).data?.articleChanged;
    expect(published).toEqual({ kind: 'PUBLISHED', article: { headline: 'Out, then back to the desk', status: 'PUBLISHED' } });
    // The public's stream is refused the editors-only `status` field; it still hears of the piece.
    expect(payload(await reader.next(2000)).data?.articleChanged).toMatchObject({ kind: 'PUBLISHED' });
    await editor.db.updateTable('articles').set({ status: 'draft' }).where('id', '=', id).execute();
    expect(payload(await desk.next(2000)).data?.articleChanged).toEqual({
      kind: 'WITHDRAWN',
      article: { headline: 'Out, then back to the desk', status: 'DRAFT' },
    });
    expect(payload(await reader.next(2000)).data?.articleChanged).toMatchObject({ kind: 'WITHDRAWN', article: null });
  });

  it('announces a scheduled piece at its time, not before, once on each stream though two instances race to announce it', async () => {
    const query = 'subscription { articlePublished { headline publishedAt } }';
    const [a, b] = await Promise.all([stream(first, query), stream(second, query)]);
    const at = new Date(Date.now() + 2000);
    await insertPiece('Embargoed until its time', at.toISOString(), 'published');
    const [fromA, fromB] = await Promise.all([a.next(4000), b.next(4000)]);
    const heard = Date.now();
    expect(heard).toBeGreaterThanOrEqual(at.getTime());
    expect(heard - at.getTime()).toBeLessThan(1000);
    for (const event of [fromA, fromB])
      expect(payload(event).data).toEqual({ articlePublished: { headline: 'Embargoed until its time', publishedAt: at.toISOString() } });
    expect([...(await a.collect(1000)), ...(await b.collect(0))]).toEqual([]);
  });

  it('replays what a client missed across a restart of the server, in order, from Last-Event-ID, and nothing twice', async () => {
    const query = 'subscription { articlePublished { headline } }';
    const before = await stream(first, query);
    await importFiles(document('Before the restart'));
    const seen = await before.next(2000);
    before.close();
    await first.stop();
    await importFiles(document('While it was down, one'), document('While it was down, two'));
    first = await startServerProcess(env());
    const resumed = await stream(first, query, { lastEventId: seen.id ?? '' });
    const replayed = [await resumed.next(2000), await resumed.next(2000)];
    expect(replayed.map((event) => payload(event).data)).toEqual([
      { articlePublished: { headline: 'While it was down, one' } },
      { articlePublished: { headline: 'While it was down, two' } },
    ]);
    expect(Number(replayed[0]?.id)).toBeGreaterThan(Number(seen.id));
    expect(Number(replayed[1]?.id)).toBeGreaterThan(Number(replayed[0]?.id));
    await importFiles(document('After the restart'));
    expect(payload(await resumed.next(2000)).data).toEqual({ articlePublished: { headline: 'After the restart' } });
    expect(await resumed.collect(300)).toEqual([]);
  });

  it('accepts the replay point as a lastEventId query parameter, for clients that cannot set headers', async () => {
    const latest = await latestFeedSeq(editor.db);
    const url = `${second.url}/graphql?query=${encodeURIComponent('subscription { articleChanged { kind } }')}&lastEventId=${latest - 1}`;
    const response = await fetch(url, { headers: { accept: 'text/event-stream' } });
    const reader = response.body?.getReader();
    const { value } = (await reader?.read()) ?? {};
    let text = new TextDecoder().decode(value);
    while (!text.includes('event: next')) text += new TextDecoder().decode((await reader?.read())?.value);
    await reader?.cancel();
    expect(text).toContain(`id: ${latest}\nevent: next\n`);
  });

  it('sends a heartbeat comment on an idle stream, as often as LIVE_HEARTBEAT_SECONDS says', async () => {
    const idle = await stream(first, 'subscription { issuePublished { number } }');
    await idle.collect(2500);
    expect(idle.heartbeats()).toBeGreaterThanOrEqual(2);
  });

  it('keeps many idle streams open at once, and delivers to every one of them', async () => {
    const count = 200;
    const streams = await Promise.all(Array.from({ length: count }, () => stream(second, 'subscription { articlePublished { headline } }')));
    expect(streams.every((opening) => opening.status === 200)).toBe(true);
    await importFiles(document('To two hundred readers'));
    const events = await Promise.all(streams.map((opening) => opening.next(3000)));
    expect(new Set(events.map((event) => payload(event).data?.articlePublished && JSON.stringify(payload(event).data)))).toEqual(
      new Set([JSON.stringify({ articlePublished: { headline: 'To two hundred readers' } })]),
    );
    for (const opening of streams) opening.close();
  });

  it('keeps delivering to a reader that keeps up while another stream is never read, and the stalled one holds its events in order, none twice', async () => {
    const server = await startServerProcess(env({ LIVE_MAX_BUFFERED_BYTES: '65536', LIVE_STALL_SECONDS: '2' }));
    try {
      const query = 'subscription { articlePublished { headline body } }';
      const url = new URL(server.url);
      const stalled = connect(Number(url.port), url.hostname);
      await new Promise<void>((resolve) => stalled.once('connect', () => resolve()));
      stalled.write(`GET /graphql?query=${encodeURIComponent(query)} HTTP/1.1\r\nHost: ${url.host}\r\nAccept: text/event-stream\r\n\r\n`);
      stalled.pause();
      const reader = await stream(server, query);
      await new Promise((resolve) => setTimeout(resolve, 300));
      // Forty pieces of some 200 kB each: far more than the socket's buffers hold.
      const paragraph = 'The council met again tonight. '.repeat(330);
      const body = Array.from({ length: 20 }, () => paragraph).join('\n\n');
      const files = Array.from({ length: 40 }, (_, n) => document(`A long piece, number ${n + 1}`, { body }));
      await importFiles(...files);
      const received: Array<{ data: string }> = [];
      for (let n = 0; n < 40; n++) received.push(await reader.next(10_000));
      expect(received.map((event) => (payload(event).data?.articlePublished as { headline?: string } | undefined)?.headline)).toEqual(
        files.map((_, n) => `A long piece, number ${n + 1}`),
      );
      // What the stalled socket holds, read now: the events in order, none twice, and no more
      // than were sent (the server may have cut it off past the cap; the kernel's buffers, up
      // to tens of MB on loopback, may also have taken everything).
      let text = '';
      stalled.setEncoding('utf8');
      stalled.on('data', (chunk: string) => {
        text += chunk;
      });
      stalled.resume();
      await new Promise((resolve) => setTimeout(resolve, 2000));
      stalled.destroy();
      const ids = [...text.matchAll(/^id: (\d+)$/gm)].map((match) => Number(match[1]));
      expect(ids.length).toBeLessThanOrEqual(40);
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
      expect(new Set(ids).size).toBe(ids.length);
    } finally {
      await server.stop();
    }
  }, 120_000);

  it('closes a stream whose reader never reads once it holds more than LIVE_MAX_BUFFERED_BYTES for LIVE_STALL_SECONDS, and a Last-Event-ID reconnect then gets the rest', async () => {
    const server = await startServerProcess(env({ LIVE_MAX_BUFFERED_BYTES: '65536', LIVE_STALL_SECONDS: '1', LIVE_MAX_STREAMS: '1' }));
    try {
      const query = 'subscription { articlePublished { headline body } }';
      const url = new URL(server.url);
      const stalled = connect(Number(url.port), url.hostname);
      await new Promise<void>((resolve) => stalled.once('connect', () => resolve()));
      stalled.write(`GET /graphql?query=${encodeURIComponent(query)} HTTP/1.1\r\nHost: ${url.host}\r\nAccept: text/event-stream\r\n\r\n`);
      stalled.pause();
      await new Promise((resolve) => setTimeout(resolve, 300));
      // The stalled stream holds the server's only place (LIVE_MAX_STREAMS=1).
      const refused = await stream(server, 'subscription { issuePublished { number } }');
      expect(refused.status).toBe(503);
      // Twenty-four pieces of some 2 MB each: more than loopback's socket buffers (tens of MB) take.
      const paragraph = 'The council met again tonight. '.repeat(330);
      const body = Array.from({ length: 200 }, () => paragraph).join('\n\n');
      const headlines = Array.from({ length: 24 }, (_, n) => `A very long piece, number ${n + 1}`);
      const before = await latestFeedSeq(editor.db);
      await importFiles(...headlines.map((headline) => document(headline, { body })));
      // The server closes the stalled stream: its place is free again.
      let admitted = await stream(server, 'subscription { issuePublished { number } }');
      for (let waited = 0; admitted.status !== 200 && waited < 60_000; waited += 250) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        admitted = await stream(server, 'subscription { issuePublished { number } }');
      }
      expect(admitted.status).toBe(200);
      admitted.close();
      // What the stalled socket got before it was cut off: complete events, in order, and not all of them.
      let text = '';
      stalled.setEncoding('utf8');
      stalled.on('data', (chunk: string) => {
        text += chunk;
      });
      stalled.on('error', () => {});
      const closed = new Promise((resolve) => stalled.once('close', resolve));
      stalled.resume();
      await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 5000))]);
      stalled.destroy();
      const complete = [...text.matchAll(/^id: (\d+)\nevent: next\ndata: (.*)\n\n/gm)].map((match) => ({
        id: match[1] ?? '',
        headline: (JSON.parse(match[2] ?? '{}').data?.articlePublished as { headline?: string } | undefined)?.headline,
      }));
      expect(complete.length).toBeLessThan(headlines.length);
      expect(complete.map((event) => event.headline)).toEqual(headlines.slice(0, complete.length));
      const lastEventId = complete.at(-1)?.id ?? String(before);
      // Reconnecting from the last complete event: the rest, in order, none twice.
      const resumed = await stream(server, 'subscription { articlePublished { headline } }', { lastEventId });
      expect(resumed.status).toBe(200);
      const rest: string[] = [];
      for (let n = complete.length; n < headlines.length; n++) {
        rest.push(String((payload(await resumed.next(10_000)).data?.articlePublished as { headline?: string } | undefined)?.headline));
      }
      expect(rest).toEqual(headlines.slice(complete.length));
      expect(await resumed.collect(300)).toEqual([]);
      resumed.close();
    } finally {
      await server.stop();
    }
  }, 180_000);

  it('ends its streams cleanly with complete on SIGTERM', async () => {
    const server = await startServerProcess(env());
    const open = await stream(server, 'subscription { articleChanged { kind } }');
    const stopped = server.stop();
    await open.ended;
    expect(await stopped).toBe(0);
    const rest = await open.collect(0);
    expect(rest.map((event) => event.event)).toEqual(['complete']);
  });
});

describe('refusals', () => {
  it('refuses a Last-Event-ID that is not a sequence, or is ahead of the feed, with 400 and a clear error', async () => {
    for (const bad of ['abc', '-1', '1e9', '99999999999999999999']) {
      const refused = await stream(first, 'subscription { articleChanged { kind } }', { lastEventId: bad });
      expect(refused.status).toBe(400);
      expect(JSON.parse(refused.text ?? '').errors[0].extensions.code).toBe('BAD_LAST_EVENT_ID');
    }
    const ahead = await stream(first, 'subscription { articleChanged { kind } }', { lastEventId: '999999999' });
    expect(ahead.status).toBe(400);
    expect(JSON.parse(ahead.text ?? '').errors[0].message).toMatch(/ahead of this store's change feed/);
  });

  it('tells a client whose replay point is older than retention with an error event, then completes', async () => {
    const latest = await latestFeedSeq(editor.db);
    // As pruning would: the entries before the newest are gone.
    await editor.db.deleteFrom('change_feed').where('seq', '<', latest).execute();
    const old = await stream(first, 'subscription { articleChanged { kind } }', { lastEventId: '1' });
    expect(old.status).toBe(200);
    const error = await old.next(2000);
    expect(error.event).toBe('next');
    expect(payload(error).errors?.[0]?.extensions?.code).toBe('REPLAY_TOO_OLD');
    expect((await old.next(2000)).event).toBe('complete');
  });

  it('refuses a subscription over plain JSON with a clear error naming the event stream', async () => {
    const response = await fetch(`${first.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
      body: JSON.stringify({ query: 'subscription { articleChanged { kind } }' }),
    });
    const body = await response.json();
    expect(response.status).toBe(406);
    expect(body.errors[0].extensions.code).toBe('SUBSCRIPTION_NEEDS_EVENT_STREAM');
    expect(body.errors[0].message).toMatch(/text\/event-stream/);
  });

  it('holds subscriptions to the same depth limits as queries', async () => {
    let deep = 'headline';
    for (let level = 0; level < 12; level++) deep = `authors { articles(first: 1) { edges { node { ${deep} } } } }`;
    const refused = await stream(first, `subscription { articlePublished { ${deep} } }`);
    expect(refused.status).toBe(400);
    expect(JSON.parse(refused.text ?? '').errors[0].extensions.code).toBe('QUERY_TOO_DEEP');
  });

  it('refuses streams past the per-client limit with 429, and past the server limit with 503', async () => {
    const server = await startServerProcess(env({ LIVE_MAX_STREAMS_PER_CLIENT: '2', LIVE_MAX_STREAMS: '3' }));
    try {
      const query = 'subscription { articleChanged { kind } }';
      const one = await stream(server, query);
      const two = await stream(server, query);
      const three = await stream(server, query);
      expect([one.status, two.status]).toEqual([200, 200]);
      expect(three.status).toBe(429);
      expect(JSON.parse(three.text ?? '').errors[0].extensions.code).toBe('TOO_MANY_STREAMS');
      // Another client address, through a trusted proxy's header, meets the server's limit.
      const proxied = await startServerProcess(env({ LIVE_MAX_STREAMS_PER_CLIENT: '2', LIVE_MAX_STREAMS: '1', TRUST_PROXY_HOPS: '1' }));
      try {
        const a = await stream(proxied, query, { headers: { 'x-forwarded-for': '192.0.2.1' } });
        const b = await stream(proxied, query, { headers: { 'x-forwarded-for': '192.0.2.2' } });
        expect(a.status).toBe(200);
        expect(b.status).toBe(503);
        expect(b.headers.get('retry-after')).toBe('5');
        a.close();
      } finally {
        await proxied.stop();
      }
      one.close();
      await new Promise((resolve) => setTimeout(resolve, 200));
      const again = await stream(server, query);
      expect(again.status).toBe(200);
    } finally {
      await server.stop();
    }
  });
});
