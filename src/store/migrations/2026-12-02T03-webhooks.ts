import { type Kysely, PostgresAdapter, sql } from 'kysely';

// Frozen in time: this file imports nothing from the app.
//
// Webhooks: the endpoints that hear of changes, and the outbox of deliveries, one row per
// endpoint and event, written from the change feed. The secret is kept as given out: signing a
// delivery (HMAC) needs it. `webhook_feed_cursor` holds the feed sequence up to which deliveries
// were written; one row, moved by compare-and-swap in the transaction that writes them, so of
// several instances one writes each event's deliveries.

// Migrations work on an untyped database: the app's types describe only the latest schema.
type Db = Kysely<any>;

export async function up(db: Db): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const timestamp = pg ? sql`timestamptz` : sql`text`;
  const now = pg ? sql`now()` : sql`(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))`;
  const sequence = pg ? 'bigint' : 'integer';
  const idColumn = (table: string) =>
    pg
      ? db.schema.createTable(table).addColumn('id', 'integer', (c) => c.primaryKey().generatedByDefaultAsIdentity())
      : db.schema.createTable(table).addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());

  await idColumn('webhook_endpoints')
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('url', 'text', (c) => c.notNull())
    // Comma-separated event types, e.g. 'article.published,article.withdrawn'.
    .addColumn('event_types', 'text', (c) => c.notNull())
    .addColumn('secret', 'text', (c) => c.notNull())
    .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1).check(sql`enabled in (0, 1)`))
    // Failed attempts in a row; past a setting the endpoint is switched off.
    .addColumn('failure_run', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('disabled_at', timestamp)
    .addColumn('disabled_reason', 'text')
    .addColumn('created_at', timestamp, (c) => c.notNull().defaultTo(now))
    .execute();

  await idColumn('webhook_deliveries')
    .addColumn('endpoint_id', 'integer', (c) => c.notNull().references('webhook_endpoints.id').onDelete('cascade'))
    // The webhook-id header: the same on every attempt.
    .addColumn('message_id', 'text', (c) => c.notNull())
    .addColumn('event_type', 'text', (c) => c.notNull())
    .addColumn('feed_seq', sequence, (c) => c.notNull())
    // The JSON body, fixed when the delivery is written: every attempt sends the same bytes.
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('pending').check(sql`status in ('pending', 'delivered', 'failed')`))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .addColumn('next_attempt_at', timestamp, (c) => c.notNull())
    .addColumn('locked_until', timestamp)
    .addColumn('last_attempt_at', timestamp)
    .addColumn('last_status', 'integer')
    .addColumn('last_duration_ms', 'integer')
    .addColumn('last_error', 'text')
    .addColumn('delivered_at', timestamp)
    .addUniqueConstraint('webhook_deliveries_message_key', ['endpoint_id', 'message_id'])
    .execute();
  // An endpoint's next delivery (its oldest pending one), and its recent ones.
  await db.schema.createIndex('webhook_deliveries_endpoint_idx').on('webhook_deliveries').columns(['endpoint_id', 'status', 'id']).execute();

  await db.schema
    .createTable('webhook_feed_cursor')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('seq', sequence, (c) => c.notNull())
    .execute();
  await db.insertInto('webhook_feed_cursor').values({ id: 1, seq: 0 }).execute();
}

export async function down(db: Db): Promise<void> {
  for (const table of ['webhook_feed_cursor', 'webhook_deliveries', 'webhook_endpoints']) await db.schema.dropTable(table).ifExists().execute();
}
