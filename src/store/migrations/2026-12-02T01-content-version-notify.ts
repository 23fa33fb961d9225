import { type Kysely, PostgresAdapter, sql } from 'kysely';

// Frozen in time: this file imports nothing from the app.
//
// On PostgreSQL, every change of the content version is also announced (NOTIFY on the channel
// masthead_content_version, the new version as payload, delivered when the writer commits), so
// that each instance can keep the version in memory instead of reading it per request. A row
// trigger on the version's own row: whatever bumps it, and however, is announced. SQLite needs
// nothing: PRAGMA data_version tells a reader of any commit.

// Migrations work on an untyped database: the app's types describe only the latest schema.
type Db = Kysely<any>;

export async function up(db: Db): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  await sql`
    create function masthead_notify_content_version() returns trigger language plpgsql as $$
    begin
      perform pg_notify('masthead_content_version', new.value::text);
      return null;
    end $$`.execute(db);
  await sql`
    create trigger totals_content_version_notify
    after update on totals
    for each row when (new.name = 'content_version')
    execute function masthead_notify_content_version()`.execute(db);
}

export async function down(db: Db): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  await sql`drop trigger if exists totals_content_version_notify on totals`.execute(db);
  await sql`drop function if exists masthead_notify_content_version()`.execute(db);
}
