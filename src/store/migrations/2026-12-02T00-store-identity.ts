import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';

// Frozen in time: this file imports nothing from the app.
//
// A random identity, written once when the store is made: what tells two stores apart where
// deployments share something outside them (the keys of one Redis, e.g. staging and production),
// whatever their settings say.

// Migrations work on an untyped database: the app's types describe only the latest schema.
type Db = Kysely<any>;

export async function up(db: Db): Promise<void> {
  await db.schema
    .createTable('store_identity')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .execute();
  await db.insertInto('store_identity').values({ id: randomUUID() }).execute();
}

export async function down(db: Db): Promise<void> {
  await db.schema.dropTable('store_identity').ifExists().execute();
}
