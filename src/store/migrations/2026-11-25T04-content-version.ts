import { type Kysely, PostgresAdapter, sql } from 'kysely';

// Frozen in time: this file imports nothing from the app.
//
// A count of changes to public content, kept by the store itself: every write to the tables the
// graph reads from adds one, whoever writes (the server, `masthead import` in another process,
// an editor at a SQL prompt). A response cache keys its entries by it, so no write can leave a
// stale answer behind.

// Migrations work on an untyped database: the app's types describe only the latest schema.
type Db = Kysely<any>;

const TABLES = ['articles', 'bylines', 'issues', 'authors', 'newsletters'];

export async function up(db: Db): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  await sql`insert into totals (name, value) values ('content_version', 0)`.execute(db);
  if (pg) {
    await sql`
      create function masthead_bump_content_version() returns trigger language plpgsql as $$
      begin
        update totals set value = value + 1 where name = 'content_version';
        return null;
      end $$`.execute(db);
    for (const table of TABLES) {
      await sql`
        create trigger ${sql.raw(`${table}_content_version`)}
        after insert or update or delete or truncate on ${sql.table(table)}
        for each statement execute function masthead_bump_content_version()`.execute(db);
    }
    return;
  }
  // SQLite has row triggers only: one small update per row written, within the writer's transaction.
  for (const table of TABLES) {
    for (const event of ['insert', 'update', 'delete']) {
      await sql`
        create trigger ${sql.raw(`${table}_${event}_content_version`)} after ${sql.raw(event)} on ${sql.table(table)}
        begin update totals set value = value + 1 where name = 'content_version'; end`.execute(db);
    }
  }
}

export async function down(db: Db): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  for (const table of TABLES) {
    if (pg) await sql`drop trigger if exists ${sql.raw(`${table}_content_version`)} on ${sql.table(table)}`.execute(db);
    else for (const event of ['insert', 'update', 'delete']) await sql`drop trigger if exists ${sql.raw(`${table}_${event}_content_version`)}`.execute(db);
  }
  if (pg) await sql`drop function if exists masthead_bump_content_version()`.execute(db);
  await sql`delete from totals where name = 'content_version'`.execute(db);
}
