import { type Kysely, sql } from 'kysely';
import type { ArticleStatus, Database } from './database.ts';
import type { Dialect } from './store.ts';

// Writes for filling an empty store at once (`masthead seed`, the demo corpus): multi-row
// inserts in chunks, within the caller's transaction.

const ROW_CHUNK = 1000;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Prepares a transaction for a bulk load: on PostgreSQL, a lock that serialises loaders (so two
 * cannot both find the store empty); on SQLite, a large page cache, since the load touches every
 * index page. restoreAfterBulkLoad undoes the cache and refreshes the planner's statistics.
 */
export async function beginBulkLoad(db: Kysely<Database>, dialect: Dialect): Promise<void> {
  if (dialect === 'postgres') await sql`select pg_advisory_xact_lock(7246001)`.execute(db);
  if (dialect === 'sqlite') await sql`pragma cache_size = -524288`.execute(db);
}

export async function restoreAfterBulkLoad(db: Kysely<Database>, dialect: Dialect): Promise<void> {
  if (dialect === 'sqlite') await sql`pragma cache_size = -65536`.execute(db);
  // Fresh statistics, so the planner knows the tables are now large.
  if (dialect === 'postgres') await vacuumTablesWithRows(db);
  else await sql`analyze`.execute(db);
  if (dialect === 'sqlite') {
    // better-sqlite3 is built with STAT4, so ANALYZE also keeps samples of each index's values.
    // With samples, SQLite compiles a statement again whenever a value compared with an indexed
    // column is bound anew, to plan for that value: every visibility check (published_at <= ?)
    // and so nearly every read, on every request, about 9 µs each (12 µs against 3 µs for an
    // issue's lookup). The per-index counts in sqlite_stat1 choose the same plans for these
    // statements (tests/plans.test.ts), so the samples go and the statistics are read again.
    await sql`delete from sqlite_stat4`.execute(db);
    await sql`analyze sqlite_schema`.execute(db);
  }
}

/**
 * VACUUM ANALYZE on PostgreSQL, as its manual advises after a bulk load (statistics, and the
 * visibility map that index-only scans read), but only of the tables that hold rows. Vacuuming
 * or analysing an empty table records it as empty, and a plan made while it still is empty
 * reads all of it later: the foreign-key checks' plans and named statements' generic plans are
 * made once per connection and kept until the table is analysed again. So every sign-up read
 * every sign-up and every queued message (285 sign-ups/s where 1,200 were possible, falling as
 * the tables grew, for good where autovacuum is off). A table never analysed is planned as at
 * least ten pages, which picks its keys.
 */
async function vacuumTablesWithRows(db: Kysely<Database>): Promise<void> {
  const { rows } = await sql<{ name: string }>`
    select relname as name from pg_class
    where relnamespace = current_schema()::regnamespace and relkind = 'r'
    order by relname`.execute(db);
  for (const { name } of rows) {
    const held = await sql<{ held: boolean }>`select exists (select from ${sql.table(name)}) as held`.execute(db);
    if (held.rows[0]?.held) await sql`vacuum analyze ${sql.table(name)}`.execute(db);
  }
}

/** Whether the store holds no content: no piece, issue or author. */
export async function isContentEmpty(db: Kysely<Database>): Promise<boolean> {
  const row = await db
    .selectNoFrom((eb) => [
      eb.exists(eb.selectFrom('articles').select('id')).as('articles'),
      eb.exists(eb.selectFrom('issues').select('id')).as('issues'),
      eb.exists(eb.selectFrom('authors').select('id')).as('authors'),
    ])
    .executeTakeFirstOrThrow();
  return !row.articles && !row.issues && !row.authors;
}

/** Adds editors' newsletters; a slug that exists already is left as it is. */
export async function insertNewslettersIfNew(
  db: Kysely<Database>,
  newsletters: ReadonlyArray<{ slug: string; name: string; description: string | null }>,
): Promise<void> {
  if (newsletters.length === 0) return;
  await db
    .insertInto('newsletters')
    .values(newsletters.map((newsletter) => ({ ...newsletter })))
    .onConflict((oc) => oc.column('slug').doNothing())
    .execute();
}

/** Adds issues; the id of every issue in the store, by number. */
export async function insertIssues(db: Kysely<Database>, issues: ReadonlyArray<{ number: number; publishedOn: string | null }>): Promise<Map<number, number>> {
  for (const rows of chunks(issues, ROW_CHUNK)) {
    await db
      .insertInto('issues')
      .values(rows.map((issue) => ({ number: issue.number, published_on: issue.publishedOn })))
      .execute();
  }
  return new Map((await db.selectFrom('issues').select(['id', 'number']).execute()).map((row) => [row.number, row.id]));
}

/** Adds authors; the id of every author in the store, by slug. */
export async function insertAuthors(db: Kysely<Database>, authors: ReadonlyArray<{ slug: string; name: string }>): Promise<Map<string, number>> {
  for (const rows of chunks(authors, ROW_CHUNK)) {
    await db
      .insertInto('authors')
      .values(rows.map((author) => ({ slug: author.slug, name: author.name, sort_name: author.name.toLowerCase() })))
      .execute();
  }
  return new Map((await db.selectFrom('authors').select(['id', 'slug']).execute()).map((row) => [row.slug, row.id]));
}

export interface BulkArticle {
  slug: string;
  headline: string;
  body: string;
  wordCount: number;
  issueId: number | null;
  publishedAt: string;
  status: ArticleStatus;
  /** Author ids, in byline order. */
  authorIds: readonly number[];
}

/** Adds a batch of pieces (one statement) with their bylines (a statement per thousand). */
export async function insertArticlesWithBylines(db: Kysely<Database>, batch: readonly BulkArticle[]): Promise<void> {
  if (batch.length === 0) return;
  await db
    .insertInto('articles')
    .values(
      batch.map((article) => ({
        slug: article.slug,
        headline: article.headline,
        standfirst: null,
        body: article.body,
        word_count: article.wordCount,
        issue_id: article.issueId,
        published_at: article.publishedAt,
        status: article.status,
        promoted_newsletter_id: null,
      })),
    )
    .execute();
  const ids = await db
    .selectFrom('articles')
    .select(['id', 'slug'])
    .where(
      'slug',
      'in',
      batch.map((article) => article.slug),
    )
    .execute();
  const idBySlug = new Map(ids.map((row) => [row.slug, row.id]));
  const bylines = batch.flatMap((article) =>
    article.authorIds.map((authorId, position) => ({
      article_id: idBySlug.get(article.slug) ?? 0,
      author_id: authorId,
      position,
      published_at: article.publishedAt,
      status: article.status,
    })),
  );
  for (const rows of chunks(bylines, ROW_CHUNK)) await db.insertInto('bylines').values(rows).execute();
}
