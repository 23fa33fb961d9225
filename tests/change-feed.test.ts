import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FeedEntry } from '../src/feed/change-feed.ts';
import { FeedAnnouncer, StoreChangeFeed } from '../src/feed/store-change-feed.ts';
import { Metrics } from '../src/metrics.ts';
import { readFeedAfter } from '../src/store/change-feed.repository.ts';
import { migrateToLatest } from '../src/store/migrate.ts';
import { openStore, type Store } from '../src/store/store.ts';
import { silentLogger } from './support/app.ts';
import { runCli } from './support/cli.ts';
import { DocumentFolder, insertPieceAtPrompt } from './support/documents.ts';
import { createThrowawayStore, type ThrowawayStore } from './support/store.ts';

// The change feed is kept by the store itself: whoever writes (`masthead import` in another
// process, an editor at a SQL prompt), every change to what the public sees is recorded once,
// in order, in the writer's transaction; a scheduled piece is recorded when its time comes.

const documents = new DocumentFolder('masthead-feed-');
let throwaway: ThrowawayStore;
/** The server's connection, tailing the feed. */
let store: Store;
/** Another connection: an editor at a SQL prompt. */
let editor: Store;
let feed: StoreChangeFeed;

/** A document as the tests below import it: in issue 3300 unless said. */
function document(name: string, headline: string, byline: string, time: string, issue = 3300): string {
  return documents.write(headline, { name, byline, time, issue, body: 'A paragraph of the piece.' });
}

async function importFiles(...files: string[]): Promise<void> {
  const result = await runCli(['import', ...files], { DATABASE_URL: throwaway.databaseUrl });
  expect(result.stderr).not.toMatch(/error/i);
  expect(result.code).toBe(0);
}

/** What the store holds after `seq` (the tail, `feed`, hears of it soon after). */
async function entriesAfter(seq: number): Promise<FeedEntry[]> {
  return readFeedAfter(editor.db, seq, 1000);
}

async function articleId(headline: string): Promise<number> {
  const row = await editor.db.selectFrom('articles').select('id').where('headline', '=', headline).executeTakeFirstOrThrow();
  return row.id;
}

async function insertPiece(headline: string, publishedAt: string, status: 'published' | 'draft'): Promise<number> {
  return insertPieceAtPrompt(editor.db, headline, publishedAt, status);
}

beforeAll(async () => {
  throwaway = await createThrowawayStore();
  store = openStore(throwaway.location, new Metrics());
  await migrateToLatest(store);
  editor = openStore(throwaway.location, new Metrics());
  feed = new StoreChangeFeed(store, throwaway.location, { connectTimeoutMs: 3000 });
  await feed.start();
});
afterAll(async () => {
  await feed?.close();
  await editor?.close();
  await store?.close();
  await throwaway?.drop();
  documents.remove();
});

describe('the change feed', () => {
  it('records a piece imported by another process once, with its issue first published, and tells the tail within a second', async () => {
    const start = await feed.latestSeq();
    let heard = 0;
    const stop = feed.onNewEntries(() => heard++);
    const before = Date.now();
    await importFiles(document('first', 'Tenants win repairs', 'Tom Reyes and Marta Quinlan', 'Sat 10 Jan 2026, 12:00 GMT'));
    const imported = Date.now();
    while (heard === 0 && Date.now() - imported < 1000) await new Promise((resolve) => setTimeout(resolve, 10));
    stop();
    expect(heard).toBeGreaterThan(0);
    const entries = await feed.readAfter(start, 100);
    expect(entries).toEqual(await entriesAfter(start));
    const id = await articleId('Tenants win repairs');
    expect(entries.map((entry) => [entry.kind, entry.articleId])).toEqual([
      ['article.published', id],
      ['issue.published', null],
    ]);
    const [published, issue] = entries as [FeedEntry, FeedEntry];
    expect(published.authorIds).toHaveLength(2);
    expect(published.issueIds).toEqual(issue.issueIds);
    expect(published.seq).toBeLessThan(issue.seq);
    expect(published.occurredAt.getTime()).toBeGreaterThanOrEqual(before - 1000);
  });

  it('records nothing when the same document is imported again unchanged', async () => {
    const start = await feed.latestSeq();
    await importFiles(document('first', 'Tenants win repairs', 'Tom Reyes and Marta Quinlan', 'Sat 10 Jan 2026, 12:00 GMT'));
    expect(await entriesAfter(start)).toEqual([]);
  });

  it('records a byline change of a public piece as one update naming the authors before and after', async () => {
    const start = await feed.latestSeq();
    await importFiles(document('first', 'Tenants win repairs', 'Tom Reyes and Ada Nwosu', 'Sat 10 Jan 2026, 12:00 GMT'));
    const entries = await entriesAfter(start);
    expect(entries.map((entry) => entry.kind)).toEqual(['article.updated']);
    expect(entries[0]?.authorIds).toHaveLength(3);
  });

  it('records a second piece of an issue without announcing the issue again', async () => {
    const start = await feed.latestSeq();
    await importFiles(document('second', 'Council answers the strike', 'Tom Reyes', 'Sun 11 Jan 2026, 09:00 GMT'));
    expect((await entriesAfter(start)).map((entry) => entry.kind)).toEqual(['article.published']);
  });

  it('never records a draft, records it when an editor publishes it by SQL, and records its withdrawal', async () => {
    const start = await feed.latestSeq();
    const id = await insertPiece('A draft at a SQL prompt', '2026-01-05T10:00:00.000Z', 'draft');
    await editor.db.updateTable('articles').set({ headline: 'A draft, edited' }).where('id', '=', id).execute();
    expect(await entriesAfter(start)).toEqual([]);

    await editor.db.updateTable('articles').set({ status: 'published' }).where('id', '=', id).execute();
    await editor.db.updateTable('articles').set({ body: 'Text, corrected.' }).where('id', '=', id).execute();
    await editor.db.updateTable('articles').set({ status: 'draft' }).where('id', '=', id).execute();
    const entries = await entriesAfter(start);
    expect(entries.map((entry) => [entry.kind, entry.articleId])).toEqual([
      ['article.published', id],
      ['article.updated', id],
      ['article.withdrawn', id],
    ]);
  });

  it('records the deletion of a public piece as a withdrawal, and of a draft not at all', async () => {
    const start = await feed.latestSeq();
    const id = await articleId('Council answers the strike');
    await editor.db.deleteFrom('articles').where('id', '=', id).execute();
    await editor.db.deleteFrom('articles').where('headline', '=', 'A draft, edited').execute();
    expect((await entriesAfter(start)).map((entry) => [entry.kind, entry.articleId])).toEqual([['article.withdrawn', id]]);
  });

  it('records a piece moved into the future as withdrawn', async () => {
    const id = await insertPiece('Moved to the future', '2026-01-06T10:00:00.000Z', 'published');
    const start = await feed.latestSeq();
    await editor.db.updateTable('articles').set({ published_at: '2099-01-01T00:00:00.000Z' }).where('id', '=', id).execute();
    expect((await entriesAfter(start)).map((entry) => [entry.kind, entry.articleId])).toEqual([['article.withdrawn', id]]);
  });

  it('records a scheduled piece when its time comes, not before, once, though two announcers race for it', async () => {
    const at = new Date(Date.now() + 1500);
    const start = await feed.latestSeq();
    const id = await insertPiece('Scheduled for later', at.toISOString(), 'published');
    // On SQLite, two connections of one process would wait on each other's lock synchronously:
    // instances there are processes (see the live tests); here both announce through one connection.
    const connections = throwaway.location.dialect === 'sqlite' ? [store, store] : [store, editor];
    const announcers = connections.map((s) => new FeedAnnouncer(s, silentLogger, { intervalMs: 50, retentionMs: 86_400_000 }));
    try {
      await Promise.all(announcers.map((announcer) => announcer.tick(new Date(at.getTime() - 100))));
      expect(await entriesAfter(start)).toEqual([]);
      for (const announcer of announcers) announcer.start();
      while (Date.now() < at.getTime() + 1000) await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      await Promise.all(announcers.map((announcer) => announcer.stop()));
    }
    const entries = await entriesAfter(start);
    expect(entries.map((entry) => [entry.kind, entry.articleId])).toEqual([['article.published', id]]);
    expect(entries[0]?.occurredAt.getTime()).toBeGreaterThanOrEqual(at.getTime() - 5);
  });

  it('moves the content version with every entry, so cached answers stay exact', async () => {
    const version = async () =>
      Number((await editor.db.selectFrom('totals').select('value').where('name', '=', 'content_version').executeTakeFirstOrThrow()).value);
    const at = new Date(Date.now() + 300);
    await insertPiece('Scheduled, for the cache', at.toISOString(), 'published');
    const before = await version();
    await new Promise((resolve) => setTimeout(resolve, 400));
    await new FeedAnnouncer(store, silentLogger, { intervalMs: 50, retentionMs: 86_400_000 }).tick();
    expect(await version()).toBeGreaterThan(before);
  });

  it('prunes entries past retention but keeps the newest, so the latest sequence is never lost', async () => {
    const latest = await feed.latestSeq();
    expect(await new FeedAnnouncer(store, silentLogger, { intervalMs: 50, retentionMs: 60_000 }).prune(new Date(Date.now() + 3_600_000))).toBeGreaterThan(0);
    expect(await feed.latestSeq()).toBe(latest);
    expect(await feed.oldestSeq()).toBe(latest);
    expect((await entriesAfter(0)).map((entry) => entry.seq)).toEqual([latest]);
  });
});
