import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { Metrics } from '../src/metrics.ts';
import { MIGRATIONS, migrateToLatest } from '../src/store/migrate.ts';
import { openStore, type Store } from '../src/store/store.ts';
import { createThrowawayStore } from './support/store.ts';

async function tableNames(store: Store): Promise<string[]> {
  const tables = await store.db.introspection.getTables();
  return tables.map((table) => table.name).sort();
}

describe('migrations', () => {
  it('leave the store as it was when one of them fails', async () => {
    const throwaway = await createThrowawayStore();
    const store = openStore(throwaway.location, new Metrics());
    try {
      const failing = {
        ...MIGRATIONS,
        '9999-12-31T00-broken': {
          up: async (db: import('kysely').Kysely<any>) => {
            await db.schema.createTable('half_done').addColumn('x', 'integer').execute();
            await sql`select * from no_such_table`.execute(db);
          },
        },
      };
      await expect(migrateToLatest(store, failing)).rejects.toThrow(/no_such_table/);
      expect((await tableNames(store)).filter((name) => !name.startsWith('kysely_'))).toEqual([]);
      const applied = await store.db
        .selectFrom('kysely_migration' as never)
        .selectAll()
        .execute();
      expect(applied).toEqual([]);

      expect(await migrateToLatest(store)).toEqual(Object.keys(MIGRATIONS));
      expect(await tableNames(store)).toEqual(expect.arrayContaining(['articles', 'authors', 'bylines', 'issues', 'newsletters', 'subscriptions']));
      expect(await migrateToLatest(store)).toEqual([]);
    } finally {
      await store.close();
      await throwaway.drop();
    }
  });
});
