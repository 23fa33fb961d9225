import { createRequire } from 'node:module';
import type SqliteDatabase from 'better-sqlite3';
import type pg from 'pg';

// The store's drivers are loaded when a store of their kind is opened, not when the module is:
// a server on SQLite never loads pg (about 10 MB of RSS with its parsers), nor one on PostgreSQL
// better-sqlite3. Both are CommonJS, so `require` loads them synchronously and openStore stays
// synchronous.
const require = createRequire(import.meta.url);

let pgDriver: typeof pg | null = null;
let sqliteDriver: typeof SqliteDatabase | null = null;

/** The `pg` module, its type parsers set once. */
export function pgModule(): typeof pg {
  if (pgDriver === null) {
    const loaded = require('pg') as typeof pg;
    // PostgreSQL hands back bigint (counts) as strings and DATE as a local-midnight Date: we want
    // numbers and the calendar date as written.
    loaded.types.setTypeParser(loaded.types.builtins.INT8, (value) => Number(value));
    loaded.types.setTypeParser(loaded.types.builtins.DATE, (value) => value);
    pgDriver = loaded;
  }
  return pgDriver;
}

/** better-sqlite3's Database class. */
export function sqliteModule(): typeof SqliteDatabase {
  sqliteDriver ??= require('better-sqlite3') as typeof SqliteDatabase;
  return sqliteDriver;
}
