import { type Kysely, sql, type Transaction } from 'kysely';
import type { Database } from '../store/database.ts';
import type { Store } from '../store/store.ts';
import { recountPublishedArticles, refreshAuthorTotals } from '../store/totals.repository.ts';
import { authorAt, type CorpusSize, DEMO_NEWSLETTERS, generateArticles, issueAt, type SeedArticle } from './corpus.ts';

export interface SeedResult {
  issues: number;
  authors: number;
  articles: number;
  newsletters: number;
}

export class StoreNotEmptyError extends Error {
  override name = 'StoreNotEmptyError';
}

const ARTICLE_CHUNK = 500;
const ROW_CHUNK = 1000;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

async function isEmpty(db: Kysely<Database>): Promise<boolean> {
  const row = await db
    .selectNoFrom((eb) => [
      eb.exists(eb.selectFrom('articles').select('id')).as('articles'),
      eb.exists(eb.selectFrom('issues').select('id')).as('issues'),
      eb.exists(eb.selectFrom('authors').select('id')).as('authors'),
    ])
    .executeTakeFirstOrThrow();
  return !row.articles && !row.issues && !row.authors;
}

function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

async function insertArticles(trx: Transaction<Database>, batch: SeedArticle[], issueIds: number[], authorIds: number[]): Promise<void> {
  await trx
    .insertInto('articles')
    .values(
      batch.map((article) => ({
        slug: article.slug,
        headline: article.headline,
        standfirst: null,
        body: article.body,
        word_count: article.wordCount,
        issue_id: article.issue === null ? null : (issueIds[article.issue] ?? null),
        published_at: article.publishedAt,
        status: article.status,
        promoted_newsletter_id: null,
      })),
    )
    .execute();
  const ids = await trx
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
    article.authors.map((author, position) => ({
      article_id: idBySlug.get(article.slug) ?? 0,
      author_id: authorIds[author] ?? 0,
      position,
      published_at: article.publishedAt,
      status: article.status,
    })),
  );
  for (const rows of chunks(bylines, ROW_CHUNK)) await trx.insertInto('bylines').values(rows).execute();
}

/**
 * Fills an empty store with a deterministic synthetic corpus, in one transaction with
 * multi-row inserts. Refuses (StoreNotEmptyError) when the store already holds content.
 */
export async function seedCorpus(store: Store, size: CorpusSize, onProgress?: (articlesDone: number, total: number) => void): Promise<SeedResult> {
  const run = () =>
    store.db.transaction().execute(async (trx) => {
      if (store.dialect === 'postgres') await sql`select pg_advisory_xact_lock(7246001)`.execute(trx);
      // A bulk load touches every index page: give SQLite a large cache while it runs.
      if (store.dialect === 'sqlite') await sql`pragma cache_size = -524288`.execute(trx);
      if (!(await isEmpty(trx))) throw new StoreNotEmptyError('the store already holds content; seed fills an empty store only');

      await trx
        .insertInto('newsletters')
        .values(DEMO_NEWSLETTERS)
        .onConflict((oc) => oc.column('slug').doNothing())
        .execute();

      const issues = Array.from({ length: size.issues }, (_, i) => issueAt(i, size.issues));
      for (const rows of chunks(issues, ROW_CHUNK)) {
        await trx
          .insertInto('issues')
          .values(rows.map((issue) => ({ number: issue.number, published_on: issue.publishedOn })))
          .execute();
      }
      const issueIdByNumber = new Map((await trx.selectFrom('issues').select(['id', 'number']).execute()).map((row) => [row.number, row.id]));
      const issueIds = issues.map((issue) => issueIdByNumber.get(issue.number) ?? 0);

      const authors = Array.from({ length: size.authors }, (_, i) => authorAt(i));
      for (const rows of chunks(authors, ROW_CHUNK)) {
        await trx
          .insertInto('authors')
          .values(rows.map((author) => ({ ...author, sort_name: author.name.toLowerCase() })))
          .execute();
      }
      const authorIdBySlug = new Map((await trx.selectFrom('authors').select(['id', 'slug']).execute()).map((row) => [row.slug, row.id]));
      const authorIds = authors.map((author) => authorIdBySlug.get(author.slug) ?? 0);

      let done = 0;
      let batch: SeedArticle[] = [];
      for (const article of generateArticles(size)) {
        batch.push(article);
        if (batch.length === ARTICLE_CHUNK) {
          await insertArticles(trx, batch, issueIds, authorIds);
          done += batch.length;
          batch = [];
          onProgress?.(done, size.articles);
        }
      }
      if (batch.length > 0) {
        await insertArticles(trx, batch, issueIds, authorIds);
        done += batch.length;
        onProgress?.(done, size.articles);
      }
      await refreshAuthorTotals(trx, 'all');
      await recountPublishedArticles(trx);
      return { issues: issues.length, authors: authors.length, articles: done, newsletters: DEMO_NEWSLETTERS.length };
    });
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await run();
      if (store.dialect === 'sqlite') await sql`pragma cache_size = -65536`.execute(store.db);
      // Fresh statistics, so the planner knows the tables are now large.
      await sql`analyze`.execute(store.db);
      return result;
    } catch (error) {
      if (!isBusy(error) || attempt >= 20) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 200));
    }
  }
}
