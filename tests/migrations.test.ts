import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { Metrics } from '../src/metrics.ts';
import { MIGRATIONS, migrateToLatest } from '../src/store/migrate.ts';
import { openStore, type Store } from '../src/store/store.ts';
import { runCli } from './support/cli.ts';
import { createThrowawayStore, testDialect } from './support/store.ts';

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

/** How many rows SQLite's planner statistics hold: per-index counts (stat1) and value samples (stat4). */
async function statistics(store: Store): Promise<{ counts: number; samples: number }> {
  const count = async (table: string) => {
    const { rows } = await sql<{ n: number }>`select count(*) as n from ${sql.table(table)}`.execute(store.db);
    return Number(rows[0]?.n);
  };
  return { counts: await count('sqlite_stat1'), samples: await count('sqlite_stat4') };
}

// STAT4 samples make SQLite compile a statement again each time a value compared with an indexed
// column is bound: every visibility check, on every request. PostgreSQL keeps no such thing.
describe.runIf(testDialect === 'sqlite')('the planner statistics of a SQLite store', () => {
  it('after `masthead seed` are the per-index counts, without value samples', async () => {
    const throwaway = await createThrowawayStore();
    try {
      const seeded = await runCli(['seed', '--articles', '300', '--authors', '12', '--issues', '10'], { DATABASE_URL: throwaway.databaseUrl });
      expect(seeded.code, seeded.stderr).toBe(0);
      const store = openStore(throwaway.location, new Metrics());
      try {
        const { counts, samples } = await statistics(store);
        expect(counts).toBeGreaterThan(10);
        expect(samples).toBe(0);
      } finally {
        await store.close();
      }
    } finally {
      await throwaway.drop();
    }
  });

  it('lose the samples an earlier ANALYZE kept when the store is migrated, and keep the counts', async () => {
    const throwaway = await createThrowawayStore();
    const store = openStore(throwaway.location, new Metrics());
    try {
      const { '2026-12-07T00-sqlite-plan-samples': _samples, ...before } = MIGRATIONS;
      await migrateToLatest(store, before);
      await sql`insert into issues (number, published_on) values (1, '2026-01-05'), (2, '2026-01-12'), (3, '2026-01-19')`.execute(store.db);
      await sql`analyze`.execute(store.db);
      expect((await statistics(store)).samples).toBeGreaterThan(0);

      expect(await migrateToLatest(store)).toEqual(['2026-12-07T00-sqlite-plan-samples']);
      const { counts, samples } = await statistics(store);
      expect(samples).toBe(0);
      expect(counts).toBeGreaterThan(0);
    } finally {
      await store.close();
      await throwaway.drop();
    }
  });
});
