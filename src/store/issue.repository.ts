import { type ExpressionBuilder, type Kysely, sql } from 'kysely';
import { isPublic, type Keyed, type PageWindow } from './article.repository.ts';
import { runCompiled } from './compiled-statements.ts';
import type { Database } from './database.ts';
import { readInBatches } from './key-batches.ts';
import { keysetAfter, type SortKey } from './keyset.ts';
import type { Author, Issue } from './model.ts';

const issueColumns = ['issues.id', 'issues.number', 'issues.published_on'] as const;

function toIssue(row: { id: number; number: number; published_on: string | null }): Issue {
  return { id: row.id, number: row.number, publishedOn: row.published_on };
}

/** An issue is public once one of its pieces is. */
function hasPublicArticle(now: string) {
  return (eb: ExpressionBuilder<Database, 'issues'>) =>
    eb.exists(eb.selectFrom('articles').select(sql`1`.as('one')).whereRef('articles.issue_id', '=', 'issues.id').where(isPublic(now)));
}

const NEWEST_FIRST: SortKey[] = [{ expression: sql.ref('issues.number'), direction: 'desc' }];

/** The public issues whose `column` is one of `keys`: a statement per batch of keys, compiled once per batch size. */
async function findPublicIssues(db: Kysely<Database>, column: 'issues.id' | 'issues.number', keys: readonly number[], now: string): Promise<Issue[]> {
  const rows = await readInBatches(keys, (batch) =>
    runCompiled(db, `issues-by-${column}:${batch.length}`, [now, ...batch], (value, values) =>
      db
        .selectFrom('issues')
        .select(issueColumns)
        .where(column, 'in', values<number>(1, batch.length))
        .where(hasPublicArticle(value(0))),
    ),
  );
  return rows.map(toIssue);
}

export function findIssuesByIds(db: Kysely<Database>, ids: readonly number[], now: string): Promise<Issue[]> {
  return findPublicIssues(db, 'issues.id', ids, now);
}

export function findIssuesByNumbers(db: Kysely<Database>, numbers: readonly number[], now: string): Promise<Issue[]> {
  return findPublicIssues(db, 'issues.number', numbers, now);
}

/** Issues, the highest number first. */
export async function listIssues(db: Kysely<Database>, window: PageWindow): Promise<Keyed<Issue>[]> {
  const { after } = window;
  const rows = await db
    .selectFrom('issues')
    .select(issueColumns)
    .where(hasPublicArticle(window.now))
    .$if(after !== null, (q) => q.where(keysetAfter(NEWEST_FIRST, after ?? [])))
    .orderBy('issues.number', 'desc')
    .limit(window.limit)
    .execute();
  return rows.map((row) => ({ node: toIssue(row), key: [row.number] }));
}

export async function countIssues(db: Kysely<Database>, now: string): Promise<number> {
  const row = await db
    .selectFrom('issues')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where(hasPublicArticle(now))
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

export async function findLatestIssue(db: Kysely<Database>, now: string): Promise<Issue | null> {
  const row = await db.selectFrom('issues').select(issueColumns).where(hasPublicArticle(now)).orderBy('issues.number', 'desc').limit(1).executeTakeFirst();
  return row ? toIssue(row) : null;
}

export async function countIssueArticles(db: Kysely<Database>, issueIds: readonly number[], now: string): Promise<Map<number, number>> {
  const rows = await readInBatches(issueIds, (batch) =>
    db
      .selectFrom('articles')
      .select(['articles.issue_id', (eb) => eb.fn.countAll<number>().as('count')])
      .where('articles.issue_id', 'in', batch)
      .where(isPublic(now))
      .groupBy('articles.issue_id')
      .execute(),
  );
  return new Map(rows.map((row) => [Number(row.issue_id), Number(row.count)]));
}

/** Each issue's contributors, in the order they first appear in its running order and bylines. */
export async function findIssueContributors(db: Kysely<Database>, issueIds: readonly number[], now: string): Promise<Map<number, Author[]>> {
  const contributors = new Map<number, Author[]>();
  const rows = await readInBatches(issueIds, (batch) =>
    db
      .selectFrom('articles')
      .innerJoin('bylines', 'bylines.article_id', 'articles.id')
      .innerJoin('authors', 'authors.id', 'bylines.author_id')
      .select(['articles.issue_id', 'authors.id', 'authors.slug', 'authors.name'])
      .where('articles.issue_id', 'in', batch)
      .where(isPublic(now))
      .orderBy('articles.issue_id')
      .orderBy('articles.published_at')
      .orderBy('articles.id')
      .orderBy('bylines.position')
      .execute(),
  );
  for (const row of rows) {
    const issueId = Number(row.issue_id);
    const authors = contributors.get(issueId) ?? [];
    if (!authors.some((author) => author.id === row.id)) authors.push({ id: row.id, slug: row.slug, name: row.name });
    contributors.set(issueId, authors);
  }
  return contributors;
}

/** The issue with this number, created if it does not exist yet; its id. */
export async function upsertIssue(db: Kysely<Database>, number: number, publishedOn: string | null): Promise<number> {
  await db
    .insertInto('issues')
    .values({ number, published_on: publishedOn })
    .onConflict((oc) => oc.column('number').doNothing())
    .execute();
  if (publishedOn !== null) {
    await db.updateTable('issues').set({ published_on: publishedOn }).where('number', '=', number).where('published_on', 'is', null).execute();
  }
  const row = await db.selectFrom('issues').select('id').where('number', '=', number).executeTakeFirstOrThrow();
  return row.id;
}

/** Issues by id, whatever their pieces' state (for events about them: an issue as it is in the store). */
export async function findIssuesByIdsUnfiltered(db: Kysely<Database>, ids: readonly number[]): Promise<Issue[]> {
  const rows = await readInBatches(ids, (batch) => db.selectFrom('issues').select(issueColumns).where('issues.id', 'in', batch).execute());
  return rows.map(toIssue);
}
