import { type Kysely, sql, type Transaction } from 'kysely';
import type { FeedEntry } from '../feed/change-feed.ts';
import type { Database } from './database.ts';
import { toIso } from './model.ts';
import type { Dialect } from './store.ts';

// The change feed's reads and the writes that are not triggers' (see the change-feed migration).

type FeedRow = {
  seq: number;
  occurred_at: Date | string;
  kind: FeedEntry['kind'];
  article_id: number | null;
  issue_id_before: number | null;
  issue_id_after: number | null;
  author_ids_before: string;
  author_ids_after: string;
};

function parseIds(json: string): number[] {
  const value: unknown = JSON.parse(json);
  return Array.isArray(value) ? value.filter((id): id is number => typeof id === 'number') : [];
}

function toEntry(row: FeedRow): FeedEntry {
  const issueIds = [row.issue_id_before, row.issue_id_after].filter((id): id is number => id !== null);
  return {
    seq: Number(row.seq),
    occurredAt: new Date(toIso(row.occurred_at)),
    kind: row.kind,
    articleId: row.article_id,
    issueIds: [...new Set(issueIds)],
    authorIds: [...new Set([...parseIds(row.author_ids_before), ...parseIds(row.author_ids_after)])],
  };
}

/** Entries after `seq`, oldest first, at most `limit`. */
export async function readFeedAfter(db: Kysely<Database>, seq: number, limit: number): Promise<FeedEntry[]> {
  const rows = await db.selectFrom('change_feed').selectAll().where('seq', '>', seq).orderBy('seq').limit(limit).execute();
  return rows.map((row) => toEntry(row as FeedRow));
}

/** The newest and oldest sequence kept; 0 and 1 for a feed that never recorded anything. */
export async function readFeedBounds(db: Kysely<Database>): Promise<{ latest: number; oldest: number }> {
  const row = await db
    .selectFrom('change_feed')
    .select((eb) => [eb.fn.max('seq').as('latest'), eb.fn.min('seq').as('oldest')])
    .executeTakeFirstOrThrow();
  const latest = row.latest === null ? 0 : Number(row.latest);
  return { latest, oldest: row.oldest === null ? latest + 1 : Number(row.oldest) };
}

/**
 * Runs `write` so that the feed records each piece it touches once, at its end. PostgreSQL's
 * triggers do so by themselves (the flush is deferred to the commit); SQLite's flush after each
 * row unless told that the transaction defers it. Call within a transaction.
 */
export async function withFeedBatch<T>(trx: Transaction<Database>, dialect: Dialect, write: () => Promise<T>): Promise<T> {
  if (dialect === 'postgres') return write();
  await trx.updateTable('feed_clock').set({ deferring: 1 }).where('id', '=', 1).execute();
  const result = await write();
  await trx.updateTable('feed_clock').set({ deferring: 0 }).where('id', '=', 1).execute();
  return result;
}

/**
 * Advances the announced-until horizon to `now` and records the pieces whose publication time
 * fell in between, in one transaction. Instances race for it under one lock (PostgreSQL: the
 * content version's row, then the clock's, the order every writer takes them in; SQLite: the
 * write lock): each interval is announced by exactly one. Returns how many pieces came due.
 */
export async function advanceFeedHorizon(db: Kysely<Database>, dialect: Dialect, now: Date): Promise<number> {
  return db.transaction().execute(async (trx) => {
    if (dialect === 'postgres') {
      await sql`select 1 from totals where name = 'content_version' for update`.execute(trx);
    } else {
      // Takes SQLite's write lock first, so that the horizon read below cannot go stale.
      await trx.updateTable('feed_clock').set({ deferring: 1 }).where('id', '=', 1).execute();
    }
    let clock = trx.selectFrom('feed_clock').select('announced_until').where('id', '=', 1);
    if (dialect === 'postgres') clock = clock.forUpdate();
    const { announced_until } = await clock.executeTakeFirstOrThrow();
    const old = toIso(announced_until);
    const next = now.toISOString();
    let due = 0;
    if (Date.parse(next) > Date.parse(old)) {
      await trx.updateTable('feed_clock').set({ announced_until: next }).where('id', '=', 1).execute();
      const result = await trx
        .insertInto('feed_pending')
        .columns(['article_id', 'changed'])
        .expression((eb) =>
          eb
            .selectFrom('articles')
            .select(['articles.id', dialect === 'postgres' ? sql<boolean>`false`.as('changed') : sql<number>`0`.as('changed')])
            .where('articles.status', '=', 'published')
            .where('articles.published_at', '>', old)
            .where('articles.published_at', '<=', next),
        )
        .onConflict((oc) => oc.column('article_id').doNothing())
        .executeTakeFirst();
      due = Number(result.numInsertedOrUpdatedRows ?? 0);
    }
    if (dialect === 'sqlite') await trx.updateTable('feed_clock').set({ deferring: 0 }).where('id', '=', 1).execute();
    return due;
  });
}

/** Drops entries older than `before`, always keeping the newest (it holds the latest sequence); how many went. */
export async function pruneFeed(db: Kysely<Database>, before: Date): Promise<number> {
  const result = await db
    .deleteFrom('change_feed')
    .where('occurred_at', '<', before.toISOString())
    .where('seq', '<', (eb) => eb.selectFrom('change_feed').select((inner) => inner.fn.max('seq').as('max')))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Whether a published piece's time has passed the announced-until horizon (one index range). */
export async function hasPiecesDue(db: Kysely<Database>, now: Date): Promise<boolean> {
  const row = await db
    .selectFrom('feed_clock')
    .select((eb) =>
      eb
        .exists(
          eb
            .selectFrom('articles')
            .select('articles.id')
            .where('articles.status', '=', 'published')
            .whereRef('articles.published_at', '>', 'feed_clock.announced_until')
            .where('articles.published_at', '<=', now.toISOString()),
        )
        .as('due'),
    )
    .where('feed_clock.id', '=', 1)
    .executeTakeFirstOrThrow();
  return Boolean(row.due);
}
