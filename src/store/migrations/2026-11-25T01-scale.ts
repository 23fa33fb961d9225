import { type Kysely, PostgresAdapter, sql } from 'kysely';

// Frozen in time: this file imports nothing from the app.
//
// For archives of a million pieces: bylines carry a copy of their article's status and
// publication time, so an author's latest pieces are one index range; authors keep counts of
// their published pieces, so ordering authors by output reads an index instead of grouping
// every byline; a totals row keeps the number of published pieces for the unfiltered count.

// Migrations work on an untyped database: the app's types describe only the latest schema.
type Db = Kysely<any>;

export async function up(db: Db): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const timestamp = pg ? sql`timestamptz` : sql`text`;

  await db.schema.alterTable('bylines').addColumn('published_at', timestamp).execute();
  await db.schema.alterTable('bylines').addColumn('status', 'text').execute();
  await sql`
    update bylines set
      published_at = (select a.published_at from articles a where a.id = bylines.article_id),
      status = (select a.status from articles a where a.id = bylines.article_id)`.execute(db);
  await db.schema.createIndex('bylines_author_public_idx').on('bylines').columns(['author_id', 'status', 'published_at', 'article_id']).execute();
  await db.schema.dropIndex('bylines_author_idx').execute();

  await db.schema.createIndex('articles_issue_public_idx').on('articles').columns(['issue_id', 'status', 'published_at', 'id']).execute();
  await db.schema.dropIndex('articles_issue_published_idx').execute();

  await db.schema
    .alterTable('authors')
    .addColumn('article_count', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable('authors').addColumn('first_published_at', timestamp).execute();
  await db.schema.alterTable('authors').addColumn('last_published_at', timestamp).execute();
  await sql`
    update authors set
      article_count = (select count(*) from bylines b where b.author_id = authors.id and b.status = 'published'),
      first_published_at = (select min(b.published_at) from bylines b where b.author_id = authors.id and b.status = 'published'),
      last_published_at = (select max(b.published_at) from bylines b where b.author_id = authors.id and b.status = 'published')`.execute(db);
  await db.schema.createIndex('authors_article_count_idx').on('authors').columns(['article_count desc', 'id']).execute();
  await db.schema.createIndex('authors_last_published_idx').on('authors').columns(['last_published_at desc', 'id']).execute();

  await db.schema
    .createTable('totals')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('value', 'integer', (c) => c.notNull())
    .execute();
  await sql`
    insert into totals (name, value)
    select 'published_articles', count(*) from articles where status = 'published'`.execute(db);
}

export async function down(db: Db): Promise<void> {
  await db.schema.dropTable('totals').execute();
  await db.schema.dropIndex('authors_last_published_idx').execute();
  await db.schema.dropIndex('authors_article_count_idx').execute();
  for (const column of ['last_published_at', 'first_published_at', 'article_count']) {
    await db.schema.alterTable('authors').dropColumn(column).execute();
  }
  await db.schema.createIndex('articles_issue_published_idx').on('articles').columns(['issue_id', 'published_at', 'id']).execute();
  await db.schema.dropIndex('articles_issue_public_idx').execute();
  await db.schema.createIndex('bylines_author_idx').on('bylines').columns(['author_id', 'article_id']).execute();
  await db.schema.dropIndex('bylines_author_public_idx').execute();
  await db.schema.alterTable('bylines').dropColumn('status').execute();
  await db.schema.alterTable('bylines').dropColumn('published_at').execute();
}
