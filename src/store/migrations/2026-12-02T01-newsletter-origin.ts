import { type Kysely, sql } from 'kysely';

// Frozen in time: this file imports nothing from the app.
//
// Where a newsletter came from. An import makes a newsletter from a piece's promotion line; when
// that piece is embargoed, the newsletter must stay hidden with it. `origin` is 'import' for
// those (public once a piece that promotes them is) and 'editor' for the rest (`masthead
// newsletter add`, the demo corpus: public from the start). Newsletters that a piece promotes
// came from imports before this migration (nothing else sets a promotion), so they are 'import'.

// Migrations work on an untyped database: the app's types describe only the latest schema.
type Db = Kysely<any>;

export async function up(db: Db): Promise<void> {
  await db.schema
    .alterTable('newsletters')
    .addColumn('origin', 'text', (col) => col.notNull().defaultTo('editor').check(sql`origin in ('editor', 'import')`))
    .execute();
  await sql`update newsletters set origin = 'import' where exists (select 1 from articles where articles.promoted_newsletter_id = newsletters.id)`.execute(db);
  // Whether a public piece promotes a newsletter: an index range, not a scan of the archive.
  await db.schema.createIndex('articles_promoted_newsletter_idx').on('articles').columns(['promoted_newsletter_id', 'status', 'published_at']).execute();
}

export async function down(db: Db): Promise<void> {
  await db.schema.dropIndex('articles_promoted_newsletter_idx').execute();
  await db.schema.alterTable('newsletters').dropColumn('origin').execute();
}
