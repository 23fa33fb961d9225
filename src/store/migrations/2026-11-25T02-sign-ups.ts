import { type Kysely, PostgresAdapter, sql } from 'kysely';

// Frozen in time: this file imports nothing from the app.
//
// The double opt-in flow: a random public id per sign-up (ids that count up would tell a
// caller whether an address signed up long ago), one row per token (stored as a hash; every
// message carries its own), a consent record per sign-up, and the transactional outbox that
// the sender drains. The token columns of `subscriptions` are no longer used: SQLite cannot
// drop a column that carries a UNIQUE constraint, so they stay, always null.

// Migrations work on an untyped database: the app's types describe only the latest schema.
type Db = Kysely<any>;

export async function up(db: Db): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const timestamp = pg ? sql`timestamptz` : sql`text`;
  const now = pg ? sql`now()` : sql`(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))`;
  const idColumn = (table: string) =>
    pg
      ? db.schema.createTable(table).addColumn('id', 'integer', (c) => c.primaryKey().generatedByDefaultAsIdentity())
      : db.schema.createTable(table).addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());

  await db.schema.alterTable('subscriptions').addColumn('public_id', 'text').execute();
  await sql`update subscriptions set public_id = ${pg ? sql`md5(random()::text || id::text)` : sql`lower(hex(randomblob(16)))`}`.execute(db);
  await db.schema.createIndex('subscriptions_public_id_key').unique().on('subscriptions').column('public_id').execute();

  await db.schema
    .createTable('subscription_tokens')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('subscription_id', 'integer', (c) => c.notNull().references('subscriptions.id').onDelete('cascade'))
    .addColumn('purpose', 'text', (c) => c.notNull().check(sql`purpose in ('confirm', 'unsubscribe')`))
    .addColumn('created_at', timestamp, (c) => c.notNull().defaultTo(now))
    .addColumn('expires_at', timestamp, (c) => c.notNull())
    .addColumn('used_at', timestamp)
    .execute();
  await db.schema.createIndex('subscription_tokens_subscription_idx').on('subscription_tokens').columns(['subscription_id', 'purpose']).execute();

  await idColumn('consents')
    .addColumn('subscription_id', 'integer', (c) => c.notNull().references('subscriptions.id').onDelete('cascade'))
    .addColumn('recorded_at', timestamp, (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('wording_version', 'text', (c) => c.notNull())
    .addColumn('client_address', 'text')
    .addColumn('user_agent', 'text')
    .execute();
  await db.schema.createIndex('consents_subscription_idx').on('consents').column('subscription_id').execute();

  await idColumn('outbox')
    .addColumn('subscription_id', 'integer', (c) => c.notNull().references('subscriptions.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('confirm', 'already-subscribed')`))
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('pending').check(sql`status in ('pending', 'sent', 'failed', 'cancelled')`))
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', timestamp, (c) => c.notNull())
    .addColumn('locked_until', timestamp)
    .addColumn('sent_at', timestamp)
    .addColumn('message_id', 'text')
    .addColumn('last_error', 'text')
    .execute();
  await db.schema.createIndex('outbox_due_idx').on('outbox').columns(['next_attempt_at', 'id']).where(sql.ref('status'), '=', 'pending').execute();
  await db.schema.createIndex('outbox_subscription_idx').on('outbox').columns(['subscription_id', 'status']).execute();
}

export async function down(db: Db): Promise<void> {
  for (const table of ['outbox', 'consents', 'subscription_tokens']) await db.schema.dropTable(table).ifExists().execute();
  await db.schema.dropIndex('subscriptions_public_id_key').ifExists().execute();
  await db.schema.alterTable('subscriptions').dropColumn('public_id').execute();
}
