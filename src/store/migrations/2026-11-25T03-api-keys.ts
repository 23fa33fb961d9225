import { type Kysely, PostgresAdapter, sql } from 'kysely';

// Frozen in time: this file imports nothing from the app.
//
// API keys for editors and admins: stored only as the SHA-256 of the secret, with a short
// prefix of it to tell keys apart in a list; revoked keys stay, marked, for the record.

// Migrations work on an untyped database: the app's types describe only the latest schema.
type Db = Kysely<any>;

export async function up(db: Db): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const timestamp = pg ? sql`timestamptz` : sql`text`;
  const now = pg ? sql`now()` : sql`(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))`;
  const table = pg
    ? db.schema.createTable('api_keys').addColumn('id', 'integer', (c) => c.primaryKey().generatedByDefaultAsIdentity())
    : db.schema.createTable('api_keys').addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());
  await table
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull().check(sql`role in ('editor', 'admin')`))
    .addColumn('key_hash', 'text', (c) => c.notNull().unique())
    .addColumn('key_prefix', 'text', (c) => c.notNull())
    .addColumn('cost_budget', 'integer')
    .addColumn('created_at', timestamp, (c) => c.notNull().defaultTo(now))
    .addColumn('revoked_at', timestamp)
    .execute();
}

export async function down(db: Db): Promise<void> {
  await db.schema.dropTable('api_keys').ifExists().execute();
}
