import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { StoreLocation } from '../../src/config.ts';

export type TestDialect = 'sqlite' | 'postgres';

/** The store this run of the suite tests: MASTHEAD_TEST_STORE=postgres, else SQLite. */
export const testDialect: TestDialect = process.env.MASTHEAD_TEST_STORE === 'postgres' ? 'postgres' : 'sqlite';

const ADMIN_URL = process.env.MASTHEAD_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface ThrowawayStore {
  location: StoreLocation;
  /** The DATABASE_URL that names it, for CLI runs and servers. */
  databaseUrl: string;
  drop(): Promise<void>;
}

/** A new, empty store of the dialect under test (or the one given); dropped afterwards. */
export async function createThrowawayStore(dialect: TestDialect = testDialect): Promise<ThrowawayStore> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(path.join(tmpdir(), 'masthead-test-'));
    const file = path.join(dir, 'store.sqlite');
    return {
      location: { dialect: 'sqlite', file, embeddedDefault: false },
      databaseUrl: `sqlite:${file}`,
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const name = `masthead_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    location: { dialect: 'postgres', url: url.toString() },
    databaseUrl: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: ADMIN_URL });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}
