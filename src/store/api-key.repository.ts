import type { Kysely } from 'kysely';
import type { Database, Role } from './database.ts';
import { toIso, toIsoOrNull } from './model.ts';

export interface ApiKey {
  id: number;
  name: string;
  role: Role;
  prefix: string;
  costBudget: number | null;
  createdAt: string;
  revokedAt: string | null;
}

export async function insertApiKey(
  db: Kysely<Database>,
  key: { name: string; role: Role; hash: string; prefix: string; costBudget: number | null },
): Promise<number> {
  const row = await db
    .insertInto('api_keys')
    .values({ name: key.name, role: key.role, key_hash: key.hash, key_prefix: key.prefix, cost_budget: key.costBudget })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

const columns = ['id', 'name', 'role', 'key_prefix', 'cost_budget', 'created_at', 'revoked_at'] as const;

function toApiKey(row: {
  id: number;
  name: string;
  role: Role;
  key_prefix: string;
  cost_budget: number | null;
  created_at: Date | string;
  revoked_at: Date | string | null;
}): ApiKey {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    prefix: row.key_prefix,
    costBudget: row.cost_budget,
    createdAt: toIso(row.created_at),
    revokedAt: toIsoOrNull(row.revoked_at),
  };
}

/** The key whose secret hashes to `hash`, unless it was revoked. */
export async function findActiveApiKey(db: Kysely<Database>, hash: string): Promise<ApiKey | null> {
  const row = await db.selectFrom('api_keys').select(columns).where('key_hash', '=', hash).where('revoked_at', 'is', null).executeTakeFirst();
  return row ? toApiKey(row) : null;
}

export async function listApiKeys(db: Kysely<Database>): Promise<ApiKey[]> {
  const rows = await db.selectFrom('api_keys').select(columns).orderBy('id').execute();
  return rows.map(toApiKey);
}

/** Revokes a key; false when there is no such key or it was revoked already. */
export async function revokeApiKey(db: Kysely<Database>, id: number, now: string): Promise<boolean> {
  const result = await db.updateTable('api_keys').set({ revoked_at: now }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
  return result.numUpdatedRows > 0n;
}
