import { type Kysely, type RawBuilder, type SelectQueryBuilder, type SqlBool, sql } from 'kysely';
import type { ArticleRow, ArticleStatus, Database, NewArticle } from './database.ts';
import { runCompiled } from './compiled-statements.ts';
import { readInBatches } from './key-batches.ts';
import { keysetAfter, orderByKeys, type SortKey } from './keyset.ts';
import { type Article, type Author, type KeysetValue, PARAGRAPH_SEPARATOR, toIso } from './model.ts';
import type { Dialect } from './store.ts';
import { countPublicArticles } from './totals.repository.ts';

/** A row of a page and the keyset values that a cursor pointing at it carries. */
export interface Keyed<T> {
  node: T;
  key: KeysetValue[];
}

export type ArticleOrder = 'PUBLISHED_AT_DESC' | 'PUBLISHED_AT_ASC';

export interface ArticleFilter {
  issueNumber?: number | null;
  authorSlug?: string | null;
  /** Strictly after this ISO time. */
  publishedAfter?: string | null;
  /** Strictly before this ISO time. */
  publishedBefore?: string | null;
}

export interface PageWindow {
  after: readonly KeysetValue[] | null;
  limit: number;
  /** The reader's clock: pieces published later than this are not public yet. */
  now: string;
}

/** What a list reads of each piece: all but the body, which can be long and which few lists ask for. */
const summaryColumns = [
  'articles.id',
  'articles.slug',
  'articles.headline',
  'articles.standfirst',
  'articles.word_count',
  'articles.issue_id',
  'articles.published_at',
  'articles.status',
  'articles.promoted_newsletter_id',
] as const;
const articleColumns = [...summaryColumns, 'articles.body'] as const;

type ArticleColumns = Omit<ArticleRow, 'created_at' | 'updated_at' | 'body'> & { body?: string };

const paragraphs = (body: string): string[] => (body === '' ? [] : body.split(PARAGRAPH_SEPARATOR));

export function toArticle(row: ArticleColumns): Article {
  return {
    id: row.id,
    slug: row.slug,
    headline: row.headline,
    standfirst: row.standfirst,
    body: row.body === undefined ? null : paragraphs(row.body),
    wordCount: row.word_count,
    issueId: row.issue_id,
    publishedAt: toIso(row.published_at),
    status: row.status,
    promotedNewsletterId: row.promoted_newsletter_id,
  };
}

/** Public pieces: published, and whose publication time has come (on bylines, their copies of both). */
export function isPublic(now: string, table: 'articles' | 'bylines' = 'articles'): RawBuilder<SqlBool> {
  return sql<SqlBool>`(${sql.ref(`${table}.status`)} = 'published' and ${sql.ref(`${table}.published_at`)} <= ${now})`;
}

const byPublishedAt = (direction: 'asc' | 'desc'): SortKey[] => [
  { expression: sql.ref('articles.published_at'), direction },
  { expression: sql.ref('articles.id'), direction },
];
const RUNNING_ORDER = byPublishedAt('asc');

const publishedAtKey = (article: Article): KeysetValue[] => [article.publishedAt, article.id];

/** Articles by id: public ones, or with `preview` any (drafts and scheduled pieces too). */
export async function findArticlesByIds(db: Kysely<Database>, ids: readonly number[], now: string, preview = false): Promise<Article[]> {
  const rows = await readInBatches(ids, (batch) =>
    runCompiled(db, `articles-by-id:${batch.length}:${preview}`, [now, ...batch], (value, values) =>
      db
        .selectFrom('articles')
        .select(articleColumns)
        .where('articles.id', 'in', values<number>(1, batch.length))
        .$if(!preview, (q) => q.where(isPublic(value(0)))),
    ),
  );
  return rows.map(toArticle);
}

export async function findArticlesBySlugs(db: Kysely<Database>, slugs: readonly string[], now: string, preview = false): Promise<Article[]> {
  const rows = await readInBatches(slugs, (batch) =>
    db
      .selectFrom('articles')
      .select(articleColumns)
      .where('articles.slug', 'in', batch)
      .$if(!preview, (q) => q.where(isPublic(now)))
      .execute(),
  );
  return rows.map(toArticle);
}

// biome-ignore lint/complexity/noBannedTypes: `{}` is Kysely's own type for a query that selects nothing yet.
type ArticlesQuery = SelectQueryBuilder<Database, 'articles', {}>;

/**
 * The pieces that a filter selects, the condition that keeps the public ones, and the columns
 * its order reads. With an author, the query is driven from that author's bylines (an index
 * range on author, status and time), not from every public piece tested for the author.
 *
 * Callers add the keyset before `visible`: both bound the publication time from above, and
 * SQLite starts its index range from the first such bound it meets, which must be the cursor's.
 */
function filteredArticles(db: Kysely<Database>, filter: ArticleFilter, now: string) {
  let query: ArticlesQuery;
  let table: 'articles' | 'bylines';
  if (filter.authorSlug != null) {
    // A slug with NUL in it names no author (PostgreSQL refuses NUL in text): an empty list.
    const authorSlug = filter.authorSlug.includes('\u0000') ? '' : filter.authorSlug;
    // Typed as a query over articles: the bylines columns it also reads go through sql.ref.
    query = db
      .selectFrom('bylines')
      .innerJoin('articles', 'articles.id', 'bylines.article_id')
      .where('bylines.author_id', '=', (eb) =>
        eb.selectFrom('authors').select('authors.id').where('authors.slug', '=', authorSlug),
      ) as unknown as ArticlesQuery;
    table = 'bylines';
  } else {
    query = db.selectFrom('articles');
    table = 'articles';
  }
  const time = sql.ref(`${table}.published_at`);
  if (filter.issueNumber != null) {
    const issueNumber = filter.issueNumber;
    query = query.where('articles.issue_id', '=', (eb) => eb.selectFrom('issues').select('issues.id').where('issues.number', '=', issueNumber));
  }
  if (filter.publishedAfter != null) query = query.where(sql<SqlBool>`${time} > ${filter.publishedAfter}`);
  if (filter.publishedBefore != null) query = query.where(sql<SqlBool>`${time} < ${filter.publishedBefore}`);
  const direction = (order: ArticleOrder) => (order === 'PUBLISHED_AT_ASC' ? 'asc' : 'desc');
  const keys = (order: ArticleOrder): SortKey[] => [
    { expression: time, direction: direction(order) },
    { expression: sql.ref(table === 'bylines' ? 'bylines.article_id' : 'articles.id'), direction: direction(order) },
  ];
  return { query, keys, visible: isPublic(now, table) };
}

export async function listArticles(db: Kysely<Database>, options: PageWindow & { filter: ArticleFilter; order: ArticleOrder }): Promise<Keyed<Article>[]> {
  const { query, keys, visible } = filteredArticles(db, options.filter, options.now);
  const { after } = options;
  const rows = await query
    .select(summaryColumns)
    .$if(after !== null, (q) => q.where(keysetAfter(keys(options.order), after ?? [])))
    .where(visible)
    .orderBy(orderByKeys(keys(options.order)))
    .limit(options.limit)
    .execute();
  return rows.map((row) => {
    const node = toArticle(row);
    return { node, key: publishedAtKey(node) };
  });
}

export async function countArticles(db: Kysely<Database>, filter: ArticleFilter, now: string): Promise<number> {
  const unfiltered = Object.values(filter).every((value) => value == null);
  if (unfiltered) return countPublicArticles(db, now);
  const { query, visible } = filteredArticles(db, filter, now);
  const row = await query
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where(visible)
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

function groupByParent(rows: Array<ArticleColumns & { parent_id: number }>, direction: 'asc' | 'desc'): Map<number, Keyed<Article>[]> {
  const pages = new Map<number, Keyed<Article>[]>();
  for (const row of rows) {
    const node = toArticle(row);
    const parentId = Number(row.parent_id);
    const page = pages.get(parentId) ?? [];
    page.push({ node, key: publishedAtKey(node) });
    pages.set(parentId, page);
  }
  // A UNION ALL promises no order across its branches' rows: put each page in its own order.
  const sign = direction === 'asc' ? 1 : -1;
  for (const page of pages.values()) {
    page.sort((a, b) => sign * (a.node.publishedAt < b.node.publishedAt ? -1 : a.node.publishedAt > b.node.publishedAt ? 1 : a.node.id - b.node.id));
  }
  return pages;
}

/** A page window whose values are stand-ins while a statement is built (see runCompiled). */
type WindowValues = { now: string; limit: number; after: readonly KeysetValue[] | null };

/** The parent a page is read for: its id's stand-in, or on PostgreSQL the lateral join's column. */
type ParentId = number | RawBuilder<number>;

/**
 * One statement that reads a page per parent, each page an index range with its own ORDER BY
 * and LIMIT, so the work is the page sizes, not the parents' whole histories (a window over
 * every piece of a prolific author would read them all).
 *
 * On PostgreSQL, a lateral join over the parents' ids passed as one array: its text is the same
 * for any number of parents, and it plans in about 0.5 ms. A UNION ALL of 20 branches took 4 ms
 * to plan (and 1.4 ms to run), on every run: Kysely's statements are unnamed, so PostgreSQL
 * plans each afresh. SQLite has no lateral join: a UNION ALL of a branch per parent, which it
 * prepares once per text (see withPreparedStatements). Past SQLite's 500 terms of a compound
 * SELECT, a statement per 500 parents, on both stores alike (see readInBatches). Compiled once
 * per name, cursor length and, on SQLite, number of parents.
 */
async function pagePerParent(
  db: Kysely<Database>,
  dialect: Dialect,
  name: string,
  direction: 'asc' | 'desc',
  parentIds: readonly number[],
  window: PageWindow,
  branch: (parentId: ParentId, window: WindowValues) => SelectQueryBuilder<Database, never, ArticleColumns & { parent_id: number }>,
): Promise<Map<number, Keyed<Article>[]>> {
  const { after } = window;
  const cursor = after?.length ?? 'first';
  const rows = await readInBatches([...new Set(parentIds)], (batch) => {
    const n = batch.length;
    if (dialect === 'postgres') {
      return runCompiled(db, `${name}:lateral:${cursor}`, [batch, window.now, window.limit, ...(after ?? [])], (value, values) => {
        const stand: WindowValues = { now: value(1), limit: value(2), after: after === null ? null : values<KeysetValue>(3, after.length) };
        const parents = sql<{ parent_id: number }>`unnest(${value(0)}::int[])`.as<'parents'>(sql`parents(parent_id)`);
        return db
          .selectFrom(parents)
          .crossJoinLateral(branch(sql.ref<number>('parents.parent_id'), stand).as('page'))
          .selectAll('page');
      });
    }
    return runCompiled(db, `${name}:${n}:${cursor}`, [...batch, window.now, window.limit, ...(after ?? [])], (value, values) => {
      const stand: WindowValues = { now: value(n), limit: value(n + 1), after: after === null ? null : values<KeysetValue>(n + 2, after.length) };
      // One parent (an issue's page, an author's): its branch alone. Wrapped as a union's term,
      // SQLite copied the page through a subquery: 8 µs of an issue page's 43.
      if (n === 1) return branch(value<number>(0), stand);
      const [first, ...rest] = values<number>(0, n).map((parentId, index) => db.selectFrom(branch(parentId, stand).as(`page${index}`)).selectAll());
      if (first === undefined) throw new Error('a page per parent needs a parent');
      return rest.reduce((union, next) => union.unionAll(next), first);
    });
  });
  return groupByParent(rows as Array<ArticleColumns & { parent_id: number }>, direction);
}

/** One page of each issue's pieces in running order (publication time, then import order), in one statement. */
export async function listIssueArticles(
  db: Kysely<Database>,
  dialect: Dialect,
  issueIds: readonly number[],
  window: PageWindow,
): Promise<Map<number, Keyed<Article>[]>> {
  return pagePerParent(
    db,
    dialect,
    'issue-articles',
    'asc',
    issueIds,
    window,
    (issueId, { now, limit, after }) =>
      db
        .selectFrom('articles')
        .select([...summaryColumns, sql<number>`cast(${issueId} as integer)`.as('parent_id')])
        .where('articles.issue_id', '=', issueId)
        .where(isPublic(now))
        .$if(after !== null, (q) => q.where(keysetAfter(RUNNING_ORDER, after ?? [])))
        .orderBy(orderByKeys(RUNNING_ORDER))
        .limit(limit) as never,
  );
}

const AUTHOR_NEWEST_FIRST: SortKey[] = [
  { expression: sql.ref('bylines.published_at'), direction: 'desc' },
  { expression: sql.ref('bylines.article_id'), direction: 'desc' },
];

/** One page of each author's pieces, newest first, in one statement. */
export async function listAuthorArticles(
  db: Kysely<Database>,
  dialect: Dialect,
  authorIds: readonly number[],
  window: PageWindow,
): Promise<Map<number, Keyed<Article>[]>> {
  return pagePerParent(
    db,
    dialect,
    'author-articles',
    'desc',
    authorIds,
    window,
    (authorId, { now, limit, after }) =>
      db
        .selectFrom('bylines')
        .innerJoin('articles', 'articles.id', 'bylines.article_id')
        .select([...summaryColumns, 'bylines.author_id as parent_id'])
        .where('bylines.author_id', '=', authorId)
        // The cursor's bound first: SQLite starts the index range from the first upper bound.
        .$if(after !== null, (q) => q.where(keysetAfter(AUTHOR_NEWEST_FIRST, after ?? [])))
        .where(isPublic(now, 'bylines'))
        .orderBy(orderByKeys(AUTHOR_NEWEST_FIRST))
        .limit(limit) as never,
  );
}

/** The body paragraphs of each piece, by id: for pieces that a list read without their bodies. */
export async function findArticleBodies(db: Kysely<Database>, ids: readonly number[]): Promise<Map<number, string[]>> {
  const rows = await readInBatches(ids, (batch) =>
    runCompiled(db, `article-bodies:${batch.length}`, batch, (_value, values) =>
      db.selectFrom('articles').select(['id', 'body']).where('id', 'in', values<number>(0, batch.length)),
    ),
  );
  return new Map(rows.map((row) => [row.id, paragraphs(row.body)]));
}

/** Authors of each article, in byline order. */
export async function findBylines(db: Kysely<Database>, articleIds: readonly number[]): Promise<Map<number, Author[]>> {
  const bylines = new Map<number, Author[]>();
  const rows = await readInBatches(articleIds, (batch) =>
    runCompiled(db, `bylines:${batch.length}`, batch, (_value, values) =>
      db
        .selectFrom('bylines')
        .innerJoin('authors', 'authors.id', 'bylines.author_id')
        .select(['bylines.article_id', 'authors.id', 'authors.slug', 'authors.name'])
        .where('bylines.article_id', 'in', values<number>(0, batch.length))
        .orderBy('bylines.article_id')
        .orderBy('bylines.position'),
    ),
  );
  for (const row of rows) {
    const authors = bylines.get(row.article_id) ?? [];
    authors.push({ id: row.id, slug: row.slug, name: row.name });
    bylines.set(row.article_id, authors);
  }
  return bylines;
}

// Words too common to search for. PostgreSQL's english configuration drops these itself; dropping
// them here too keeps both stores' answers alike (and makes "and", "or", "not" plain words).
const STOP_WORDS = new Set(
  'a an and are as at be but by for from has have he her his i if in into is it its no not of on or our she so such that the their them then there these they this to was we were what when which who will with you'.split(
    ' ',
  ),
);

/**
 * The words of a search, as plain terms: letters and digits only, so that no query syntax of
 * either store (FTS5 operators, tsquery operators, quotes, column filters) can reach it.
 */
export function searchTerms(query: string): string[] {
  const terms = (query.normalize('NFKC').match(/[\p{L}\p{N}]+/gu) ?? []).map((term) => term.slice(0, 64).toLowerCase()).filter((term) => !STOP_WORDS.has(term));
  return [...new Set(terms)].slice(0, 32);
}

function searchMatches(db: Kysely<Database>, dialect: Dialect, terms: readonly string[]) {
  if (dialect === 'sqlite') {
    const match = terms.map((term) => `"${term}"`).join(' ');
    // bm25 is lower for better matches; negated, higher is better on both stores.
    return db
      .selectFrom(
        sql<{ id: number; score: number }>`(
        select rowid as id, -bm25(article_search, 10.0, 4.0, 1.0) as score
        from article_search where article_search match ${match}
      )`.as('matches'),
      )
      .innerJoin('articles', 'articles.id', 'matches.id');
  }
  return db
    .selectFrom(
      sql<{ id: number; score: number }>`(
      select id, ts_rank(search_vector, query, 1)::float8 as score
      from articles, plainto_tsquery('english', ${terms.join(' ')}) as query
      where search_vector @@ query
    )`.as('matches'),
    )
    .innerJoin('articles', 'articles.id', 'matches.id');
}

const BEST_MATCH_FIRST: SortKey[] = [
  { expression: sql.ref('matches.score'), direction: 'desc' },
  { expression: sql.ref('articles.id'), direction: 'asc' },
];

/** Full-text search over headline, standfirst and body, best match first. */
export async function searchArticles(db: Kysely<Database>, dialect: Dialect, terms: readonly string[], window: PageWindow): Promise<Keyed<Article>[]> {
  if (terms.length === 0) return [];
  const { after } = window;
  const rows = await searchMatches(db, dialect, terms)
    .select([...summaryColumns, 'matches.score'])
    .where(isPublic(window.now))
    .$if(after !== null, (q) => q.where(keysetAfter(BEST_MATCH_FIRST, after ?? [])))
    .orderBy(orderByKeys(BEST_MATCH_FIRST))
    .limit(window.limit)
    .execute();
  return rows.map((row) => ({ node: toArticle(row), key: [row.score, row.id] }));
}

export async function countSearchResults(db: Kysely<Database>, dialect: Dialect, terms: readonly string[], now: string): Promise<number> {
  if (terms.length === 0) return 0;
  const row = await searchMatches(db, dialect, terms)
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where(isPublic(now))
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

/** What an import compares to decide whether a stored piece changed. */
export interface StoredPiece {
  id: number;
  standfirst: string | null;
  body: string;
  issueId: number | null;
  status: ArticleStatus;
  promotedNewsletterId: number | null;
}

/** The stored piece with this headline and publication time: the same piece, to an import. */
export async function findArticleByIdentity(db: Kysely<Database>, headline: string, publishedAt: string): Promise<StoredPiece | null> {
  const row = await db
    .selectFrom('articles')
    .select(['id', 'standfirst', 'body', 'issue_id', 'status', 'promoted_newsletter_id'])
    .where('headline', '=', headline)
    .where('published_at', '=', publishedAt)
    .executeTakeFirst();
  return row
    ? { id: row.id, standfirst: row.standfirst, body: row.body, issueId: row.issue_id, status: row.status, promotedNewsletterId: row.promoted_newsletter_id }
    : null;
}

/** The article slugs taken among `base` and `base-…`. */
export async function findTakenArticleSlugs(db: Kysely<Database>, base: string): Promise<Set<string>> {
  const rows = await db
    .selectFrom('articles')
    .select('slug')
    .where((eb) => eb.or([eb('slug', '=', base), eb('slug', 'like', `${base}-%`)]))
    .execute();
  return new Set(rows.map((row) => row.slug));
}

/** An article's columns as an import writes them. */
export type ArticleFields = Omit<NewArticle, 'slug' | 'created_at' | 'updated_at'> & { published_at: string };

/** Adds a piece with its byline (authors in byline order); its id. */
export async function insertArticle(db: Kysely<Database>, fields: ArticleFields & { slug: string }, authorIds: readonly number[]): Promise<number> {
  const { id } = await db.insertInto('articles').values(fields).returning('id').executeTakeFirstOrThrow();
  await insertBylines(db, id, fields, authorIds);
  return id;
}

/** Rewrites a piece and its byline in place (same id and slug). */
export async function updateArticle(db: Kysely<Database>, id: number, fields: ArticleFields, authorIds: readonly number[]): Promise<void> {
  await db
    .updateTable('articles')
    .set({ ...fields, updated_at: new Date().toISOString() })
    .where('id', '=', id)
    .execute();
  await db.deleteFrom('bylines').where('article_id', '=', id).execute();
  await insertBylines(db, id, fields, authorIds);
}

async function insertBylines(db: Kysely<Database>, articleId: number, fields: ArticleFields, authorIds: readonly number[]): Promise<void> {
  if (authorIds.length === 0) return;
  await db
    .insertInto('bylines')
    .values(
      authorIds.map((authorId, position) => ({
        article_id: articleId,
        author_id: authorId,
        position,
        published_at: fields.published_at,
        status: fields.status,
      })),
    )
    .execute();
}

/** A piece's authors, in byline order. */
export async function findBylineAuthorIds(db: Kysely<Database>, articleId: number): Promise<number[]> {
  const rows = await db.selectFrom('bylines').select('author_id').where('article_id', '=', articleId).orderBy('position').execute();
  return rows.map((row) => row.author_id);
}
