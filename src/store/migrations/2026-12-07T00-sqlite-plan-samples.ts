import { type Kysely, PostgresAdapter, sql } from 'kysely';

// Frozen in time: this file imports nothing from the app.
//
// SQLite stores analysed before this migration hold STAT4 samples of their indexes (ANALYZE after
// a seed or an import), and with them SQLite compiles a statement again whenever a value
// compared with an indexed column is bound anew: nearly every read, on every request. The
// samples go; the per-index counts in sqlite_stat1 stay and choose the same plans. A bulk load
// now leaves no samples either (src/store/bulk-load.repository.ts).

// Migrations work on an untyped database: the app's types describe only the latest schema.
type Db = Kysely<any>;

export async function up(db: Db): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) return;
  const { rows } = await sql<{ found: number }>`select count(*) as found from sqlite_master where name = 'sqlite_stat4'`.execute(db);
  if (!rows[0]?.found) return;
  await sql`delete from sqlite_stat4`.execute(db);
  await sql`analyze sqlite_schema`.execute(db);
}

export async function down(): Promise<void> {
  // Nothing to undo: the samples come back with the next ANALYZE.
}
