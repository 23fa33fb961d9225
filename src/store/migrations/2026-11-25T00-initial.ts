import { type Kysely, PostgresAdapter, sql } from 'kysely';

// Frozen in time: this file imports nothing from the app. Both dialects are spelled out here.

// Migrations work on an untyped database: the app's types describe only the latest schema.
type Db = Kysely<any>;

function isPostgres(db: Db): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

export async function up(db: Db): Promise<void> {
  const pg = isPostgres(db);
  const timestamp = pg ? sql`timestamptz` : sql`text`;
  const date = pg ? sql`date` : sql`text`;
  const now = pg ? sql`now()` : sql`(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))`;
  const idColumn = (name: string) =>
    pg
      ? db.schema.createTable(name).addColumn('id', 'integer', (c) => c.primaryKey().generatedByDefaultAsIdentity())
      : db.schema.createTable(name).addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());

  await idColumn('issues')
    .addColumn('number', 'integer', (c) => c.notNull().unique())
    .addColumn('published_on', date)
    .addColumn('created_at', timestamp, (c) => c.notNull().defaultTo(now))
    .execute();

  await idColumn('authors')
    .addColumn('slug', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('sort_name', 'text', (c) => c.notNull())
    .addColumn('created_at', timestamp, (c) => c.notNull().defaultTo(now))
    .execute();
  await db.schema.createIndex('authors_sort_name_idx').on('authors').columns(['sort_name', 'id']).execute();

  await idColumn('newsletters')
    .addColumn('slug', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('created_at', timestamp, (c) => c.notNull().defaultTo(now))
    .execute();

  await idColumn('articles')
    .addColumn('slug', 'text', (c) => c.notNull().unique())
    .addColumn('headline', 'text', (c) => c.notNull())
    .addColumn('standfirst', 'text')
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('word_count', 'integer', (c) => c.notNull())
    .addColumn('issue_id', 'integer', (c) => c.references('issues.id'))
    .addColumn('published_at', timestamp, (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('published', 'draft')`))
    .addColumn('promoted_newsletter_id', 'integer', (c) => c.references('newsletters.id'))
    .addColumn('created_at', timestamp, (c) => c.notNull().defaultTo(now))
    .addColumn('updated_at', timestamp, (c) => c.notNull().defaultTo(now))
    .addUniqueConstraint('articles_identity_key', ['headline', 'published_at'])
    .execute();
  // Articles by date (the public list) and an issue's running order.
  await db.schema.createIndex('articles_status_published_idx').on('articles').columns(['status', 'published_at', 'id']).execute();
  await db.schema.createIndex('articles_issue_published_idx').on('articles').columns(['issue_id', 'published_at', 'id']).execute();

  await db.schema
    .createTable('bylines')
    .addColumn('article_id', 'integer', (c) => c.notNull().references('articles.id').onDelete('cascade'))
    .addColumn('author_id', 'integer', (c) => c.notNull().references('authors.id'))
    .addColumn('position', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('bylines_pkey', ['article_id', 'position'])
    .addUniqueConstraint('bylines_article_author_key', ['article_id', 'author_id'])
    .execute();
  await db.schema.createIndex('bylines_author_idx').on('bylines').columns(['author_id', 'article_id']).execute();

  await idColumn('subscriptions')
    .addColumn('newsletter_id', 'integer', (c) => c.notNull().references('newsletters.id'))
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('pending', 'active', 'unsubscribed')`))
    .addColumn('created_at', timestamp, (c) => c.notNull().defaultTo(now))
    .addColumn('confirmed_at', timestamp)
    .addColumn('unsubscribed_at', timestamp)
    .addColumn('confirm_token_hash', 'text', (c) => c.unique())
    .addColumn('unsubscribe_token_hash', 'text', (c) => c.unique())
    .addColumn('token_expires_at', timestamp)
    .addUniqueConstraint('subscriptions_newsletter_email_key', ['newsletter_id', 'email'])
    .execute();

  if (pg) {
    await sql`
      alter table articles add column search_vector tsvector generated always as (
        setweight(to_tsvector('english', headline), 'A') ||
        setweight(to_tsvector('english', coalesce(standfirst, '')), 'B') ||
        setweight(to_tsvector('english', body), 'C')
      ) stored`.execute(db);
    await sql`create index articles_search_idx on articles using gin (search_vector)`.execute(db);
  } else {
    await sql`
      create virtual table article_search using fts5(
        headline, standfirst, body,
        content = 'articles', content_rowid = 'id',
        tokenize = 'porter unicode61 remove_diacritics 2'
      )`.execute(db);
    await sql`
      create trigger articles_search_insert after insert on articles begin
        insert into article_search (rowid, headline, standfirst, body)
        values (new.id, new.headline, new.standfirst, new.body);
      end`.execute(db);
    await sql`
      create trigger articles_search_delete after delete on articles begin
        insert into article_search (article_search, rowid, headline, standfirst, body)
        values ('delete', old.id, old.headline, old.standfirst, old.body);
      end`.execute(db);
    await sql`
      create trigger articles_search_update after update of headline, standfirst, body on articles begin
        insert into article_search (article_search, rowid, headline, standfirst, body)
        values ('delete', old.id, old.headline, old.standfirst, old.body);
        insert into article_search (rowid, headline, standfirst, body)
        values (new.id, new.headline, new.standfirst, new.body);
      end`.execute(db);
  }
}

export async function down(db: Db): Promise<void> {
  if (!isPostgres(db)) await sql`drop table if exists article_search`.execute(db);
  for (const table of ['subscriptions', 'bylines', 'articles', 'newsletters', 'authors', 'issues']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
