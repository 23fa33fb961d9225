import { type Kysely, sql } from 'kysely';
import { runCompiled } from './compiled-statements.ts';
import type { Database } from './database.ts';
import { MAX_KEYS_PER_STATEMENT } from './key-batches.ts';

// Kept counts: written with the content they count, so that reads at archive scale need not
// count a million rows. They count published pieces whatever their time; readers subtract the
// few pieces whose time has not come (an index range), so what they show stays exact.

/** Recomputes the kept counts of these authors from their bylines (one statement). */
export async function refreshAuthorTotals(db: Kysely<Database>, authorIds: readonly number[] | 'all'): Promise<void> {
  if (authorIds !== 'all' && authorIds.length > MAX_KEYS_PER_STATEMENT) {
    for (let start = 0; start < authorIds.length; start += MAX_KEYS_PER_STATEMENT) {
      await refreshAuthorTotals(db, authorIds.slice(start, start + MAX_KEYS_PER_STATEMENT));
    }
    return;
  }
  if (authorIds !== 'all' && authorIds.length === 0) return;
  const published = (column: string) => sql`(select ${sql.raw(column)} from bylines b where b.author_id = authors.id and b.status = 'published')`;
  await db
    .updateTable('authors')
    .set({
      article_count: published('count(*)') as never,
      first_published_at: published('min(b.published_at)') as never,
      last_published_at: published('max(b.published_at)') as never,
    })
    .$if(authorIds !== 'all', (q) => q.where('authors.id', 'in', authorIds as readonly number[]))
    .execute();
}

export async function adjustPublishedArticles(db: Kysely<Database>, delta: number): Promise<void> {
  if (delta === 0) return;
  await db
    .updateTable('totals')
    .set((eb) => ({ value: eb('value', '+', delta) }))
    .where('name', '=', 'published_articles')
    .execute();
}

/** Sets the kept number of published pieces by counting them: for bulk loads. */
export async function recountPublishedArticles(db: Kysely<Database>): Promise<void> {
  await db
    .updateTable('totals')
    .set({ value: (eb) => eb.selectFrom('articles').select(eb.fn.countAll<number>().as('n')).where('status', '=', 'published') })
    .where('name', '=', 'published_articles')
    .execute();
}

/** Public pieces in the whole archive: the kept total less those whose time has not come. */
export async function countPublicArticles(db: Kysely<Database>, now: string): Promise<number> {
  const row = await db
    .selectNoFrom((eb) => [
      eb.selectFrom('totals').select('value').where('name', '=', 'published_articles').as('published'),
      eb.selectFrom('articles').select(eb.fn.countAll<number>().as('n')).where('status', '=', 'published').where('published_at', '>', now).as('scheduled'),
    ])
    .executeTakeFirstOrThrow();
  return Number(row.published ?? 0) - Number(row.scheduled ?? 0);
}

/** Whether a published piece waits for its time: then kept author counts are ahead of what the public sees. */
export async function hasScheduledArticles(db: Kysely<Database>, now: string): Promise<boolean> {
  const rows = await runCompiled(db, 'has-scheduled', [now], (value) =>
    db.selectFrom('articles').select('id').where('status', '=', 'published').where('published_at', '>', value<string>(0)).limit(1),
  );
  return rows.length > 0;
}

/** How much content a store holds, whatever its state: what start-up reports. */
export interface ContentCounts {
  articles: number;
  issues: number;
  authors: number;
}

export async function countContent(db: Kysely<Database>): Promise<ContentCounts> {
  const count = (table: 'articles' | 'issues' | 'authors') => db.selectFrom(table).select((eb) => eb.fn.countAll<number | string>().as('n'));
  const row = await db
    .selectNoFrom(() => [count('articles').as('articles'), count('issues').as('issues'), count('authors').as('authors')])
    .executeTakeFirstOrThrow();
  return { articles: Number(row.articles), issues: Number(row.issues), authors: Number(row.authors) };
}
