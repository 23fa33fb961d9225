import { type Kysely, PostgresAdapter, sql } from 'kysely';

// Frozen in time: this file imports nothing from the app.
//
// The content version (2026-11-25T04) counted writes to the content tables but not to `totals`,
// whose kept counts answers show too (`articles { totalCount }`): a direct write to them left a
// cached answer stale. Every write to a row of `totals` now counts as well, except to the
// content version's own row, which every counted write updates (counting that would recurse).

// Migrations work on an untyped database: the app's types describe only the latest schema.
type Db = Kysely<any>;

const EVENTS = ['insert', 'update', 'delete'] as const;

export async function up(db: Db): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    // A row trigger, since a statement trigger cannot tell which rows it wrote.
    await sql`
      create function masthead_bump_content_version_for_totals() returns trigger language plpgsql as $$
      begin
        if (case when tg_op = 'DELETE' then old.name else new.name end) <> 'content_version' then
          update totals set value = value + 1 where name = 'content_version';
        end if;
        return null;
      end $$`.execute(db);
    await sql`
      create trigger totals_content_version after insert or update or delete on totals
      for each row execute function masthead_bump_content_version_for_totals()`.execute(db);
    return;
  }
  for (const event of EVENTS) {
    const row = event === 'delete' ? sql.raw('old') : sql.raw('new');
    await sql`
      create trigger ${sql.raw(`totals_${event}_content_version`)} after ${sql.raw(event)} on totals
      when ${row}.name <> 'content_version'
      begin update totals set value = value + 1 where name = 'content_version'; end`.execute(db);
  }
}

export async function down(db: Db): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    await sql`drop trigger if exists totals_content_version on totals`.execute(db);
    await sql`drop function if exists masthead_bump_content_version_for_totals()`.execute(db);
    return;
  }
  for (const event of EVENTS) await sql`drop trigger if exists ${sql.raw(`totals_${event}_content_version`)}`.execute(db);
}
