import type { Kysely } from 'kysely';
import type { Database } from './database.ts';

/** The random identity the store was given when it was made (see the store-identity migration). */
export async function readStoreIdentity(db: Kysely<Database>): Promise<string> {
  const row = await db.selectFrom('store_identity').select('id').executeTakeFirstOrThrow();
  return row.id;
}
