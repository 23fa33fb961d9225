import { type ExpressionBuilder, type Kysely, sql } from 'kysely';
import { isPublic, type Keyed, type PageWindow } from './article.repository.ts';
import { runCompiled } from './compiled-statements.ts';
import type { Database } from './database.ts';
import { readInBatches } from './key-batches.ts';
import { keysetAfter, orderByKeys, type SortKey } from './keyset.ts';
import { type Author, type AuthorStats, toIsoOrNull } from './model.ts';
import { hasScheduledArticles } from './totals.repository.ts';

export type AuthorOrder = 'NAME_ASC' | 'ARTICLE_COUNT_DESC' | 'LAST_PUBLISHED_DESC';

const authorColumns = ['authors.id', 'authors.slug', 'authors.name'] as const;

const toAuthor = (row: { id: number; slug: string; name: string }): Author => ({
  id: row.id,
  slug: row.slug,
  name: row.name,
});

/**
 * An author is public once one of their pieces is: they have a published piece, and the
 * earliest of those has come out (read from the kept columns, exact whatever is scheduled).
 */
function hasPublicArticle(now: string) {
  return (eb: ExpressionBuilder<Database, 'authors'>) => eb.and([eb('authors.article_count', '>', 0), eb('authors.first_published_at', '<=', now)]);
}

/** Per author: how many public pieces, and the first and last publication times (an index range each). */
function statsQuery(db: Kysely<Database>, now: string) {
  return db
    .selectFrom('bylines')
    .select([
      'bylines.author_id',
      (eb) => eb.fn.countAll<number>().as('article_count'),
      (eb) => eb.fn.min('bylines.published_at').as('first_published_at'),
      (eb) => eb.fn.max('bylines.published_at').as('last_published_at'),
    ])
    .where(isPublic(now, 'bylines'))
    .groupBy('bylines.author_id');
}

/** The authors with a public piece whose `column` is one of `keys`: a statement per batch, compiled once per batch size. */
async function findPublicAuthors(
  db: Kysely<Database>,
  column: 'authors.id' | 'authors.slug',
  keys: readonly (number | string)[],
  now: string,
): Promise<Author[]> {
  const rows = await readInBatches(keys, (batch) =>
    runCompiled(db, `authors-by-${column}:${batch.length}`, [now, ...batch], (value, values) =>
      db
        .selectFrom('authors')
        .select(authorColumns)
        .where(column, 'in', values<never>(1, batch.length))
        .where(hasPublicArticle(value(0))),
    ),
  );
  return rows.map(toAuthor);
}

export function findAuthorsByIds(db: Kysely<Database>, ids: readonly number[], now: string): Promise<Author[]> {
  return findPublicAuthors(db, 'authors.id', ids, now);
}

export function findAuthorsBySlugs(db: Kysely<Database>, slugs: readonly string[], now: string): Promise<Author[]> {
  return findPublicAuthors(db, 'authors.slug', slugs, now);
}

const NAME_ASC: SortKey[] = [
  { expression: sql.ref('authors.sort_name'), direction: 'asc' },
  { expression: sql.ref('authors.id'), direction: 'asc' },
];
const byStat = (table: 'stats' | 'authors', column: 'article_count' | 'last_published_at'): SortKey[] => [
  { expression: sql.ref(`${table}.${column}`), direction: 'desc' },
  { expression: sql.ref('authors.id'), direction: 'asc' },
];

/** An author of a list, with their public counts when the list's order read them anyway. */
export type ListedAuthor = Keyed<Author> & { stats: AuthorStats | null };

type StatsRow = { article_count: number | string; first_published_at: Date | string | null; last_published_at: Date | string | null };

const toAuthorStats = (row: StatsRow): AuthorStats => ({
  articleCount: Number(row.article_count),
  firstPublishedAt: toIsoOrNull(row.first_published_at),
  lastPublishedAt: toIsoOrNull(row.last_published_at),
});

export async function listAuthors(db: Kysely<Database>, options: PageWindow & { order: AuthorOrder }): Promise<ListedAuthor[]> {
  const { after, limit, now, order } = options;
  if (order === 'NAME_ASC') {
    const rows = await db
      .selectFrom('authors')
      .select([...authorColumns, 'authors.sort_name'])
      .where(hasPublicArticle(now))
      .$if(after !== null, (q) => q.where(keysetAfter(NAME_ASC, after ?? [])))
      .orderBy(orderByKeys(NAME_ASC))
      .limit(limit)
      .execute();
    return rows.map((row) => ({ node: toAuthor(row), key: [row.sort_name, row.id], stats: null }));
  }
  const column = order === 'ARTICLE_COUNT_DESC' ? 'article_count' : 'last_published_at';
  // Kept counts match what the public sees unless a published piece waits for its time; then
  // (rarely) the order is computed from the bylines instead, so it is exact either way. The row
  // thus holds the author's public counts, which the list hands on: their fields then cost no
  // statement of their own.
  const rows = (await hasScheduledArticles(db, now))
    ? await db
        .selectFrom('authors')
        .innerJoin(statsQuery(db, now).as('stats'), 'stats.author_id', 'authors.id')
        .select([...authorColumns, 'stats.article_count', 'stats.first_published_at', 'stats.last_published_at'])
        .$if(after !== null, (q) => q.where(keysetAfter(byStat('stats', column), after ?? [])))
        .orderBy(orderByKeys(byStat('stats', column)))
        .limit(limit)
        .execute()
    : await runCompiled(db, `authors-by-${column}:${after?.length ?? 'first'}`, [limit, ...(after ?? [])], (value, values) =>
        db
          .selectFrom('authors')
          .select([...authorColumns, 'authors.article_count', 'authors.first_published_at', 'authors.last_published_at'])
          .where('authors.article_count', '>', 0)
          .$if(after !== null, (q) => q.where(keysetAfter(byStat('authors', column), values(1, after?.length ?? 0))))
          .orderBy(orderByKeys(byStat('authors', column)))
          .limit(value<number>(0)),
      );
  return rows.map((row) => {
    const stats = toAuthorStats(row);
    const first: string | number = order === 'ARTICLE_COUNT_DESC' ? stats.articleCount : (stats.lastPublishedAt ?? '');
    return { node: toAuthor(row), key: [first, row.id], stats };
  });
}

export async function countAuthors(db: Kysely<Database>, now: string): Promise<number> {
  const row = await db
    .selectFrom('authors')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where(hasPublicArticle(now))
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

export async function findAuthorStats(db: Kysely<Database>, authorIds: readonly number[], now: string): Promise<Map<number, AuthorStats>> {
  const rows = await readInBatches(authorIds, (batch) =>
    runCompiled(db, `author-stats:${batch.length}`, [now, ...batch], (value, values) =>
      statsQuery(db, value(0)).where('bylines.author_id', 'in', values<number>(1, batch.length)),
    ),
  );
  return new Map(rows.map((row) => [row.author_id, toAuthorStats(row)]));
}

/** The author with this slug, created with this name if new; their id. */
export async function upsertAuthor(db: Kysely<Database>, slug: string, name: string): Promise<number> {
  await db
    .insertInto('authors')
    .values({ slug, name, sort_name: name.toLowerCase() })
    .onConflict((oc) => oc.column('slug').doNothing())
    .execute();
  const row = await db.selectFrom('authors').select('id').where('slug', '=', slug).executeTakeFirstOrThrow();
  return row.id;
}
