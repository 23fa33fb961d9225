import path from 'node:path';
import type SqliteDatabase from 'better-sqlite3';
import {
  type CompiledQuery,
  type DialectAdapter,
  Kysely,
  type LogEvent,
  type MigrationLockOptions,
  PostgresDialect,
  SqliteAdapter,
  SqliteDialect,
  sql,
} from 'kysely';
import type pg from 'pg';
import type { StoreLocation } from '../config.ts';
import { ensureFolder } from '../folders.ts';
import { requestScope } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import type { Database } from './database.ts';
import { type ContentState, PostgresContentWatch, readContentState, SqliteContentWatch } from './content-version.repository.ts';
import { preparedStatementName } from './compiled-statements.ts';
import { pgModule, sqliteModule } from './drivers.ts';
import { withPreparedStatements } from './prepared-statements.ts';

export type Dialect = StoreLocation['dialect'];

export interface Store {
  db: Kysely<Database>;
  dialect: Dialect;
  /** Resolves when the store answers a trivial statement. */
  ping(): Promise<void>;
  /**
   * What public answers depend on besides the request (see readContentState), at `nowMs`. Unless
   * something was committed since the last call, without a statement: on SQLite synchronous (see
   * SqliteContentWatch), on PostgreSQL while its listening connection is up (see
   * PostgresContentWatch; one statement per call while it is not).
   */
  contentState(nowMs: number): ContentState | Promise<ContentState>;
  /** Starts watching the content state now rather than at first use; true once a call costs no statement. */
  watchContent(): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * Kysely's SQLite adapter runs migrations outside a transaction and takes no lock: within one
 * process its single connection is enough. Across processes it is not: two migrators can both
 * read "nothing applied" and both apply, and a failing migration is left half done. Here the
 * migrations run in one transaction whose first statement writes the lock row, taking SQLite's
 * write lock at once: the others wait (busy_timeout), then find the work done.
 */
class CrossProcessSqliteAdapter extends SqliteAdapter {
  // SQLite's DDL is transactional; Kysely's adapter says otherwise, and would then apply a
  // failing migration halfway.
  override get supportsTransactionalDdl(): boolean {
    return true;
  }

  // The migrator hands over an untyped Kysely.
  // biome-ignore lint/suspicious/noExplicitAny: the signature is SqliteAdapter's own.
  override async acquireMigrationLock(db: Kysely<any>, options: MigrationLockOptions): Promise<void> {
    await db.updateTable(options.lockTable).set({ is_locked: 1 }).where('id', '=', options.lockRowId).execute();
  }
}

class MastheadSqliteDialect extends SqliteDialect {
  override createAdapter(): DialectAdapter {
    return new CrossProcessSqliteAdapter();
  }
}

function openSqlite(file: string): SqliteDatabase.Database {
  let database: SqliteDatabase.Database;
  try {
    ensureFolder(path.dirname(file));
    database = new (sqliteModule())(file);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`cannot open the SQLite file ${file}: ${reason}`);
  }
  database.pragma('journal_mode = WAL');
  database.pragma('busy_timeout = 5000');
  database.pragma('foreign_keys = ON');
  database.pragma('synchronous = NORMAL');
  // 64 MiB of page cache (the default is 2 MiB): an archive's indexes stay in memory.
  database.pragma('cache_size = -65536');
  return database;
}

export interface StoreOptions {
  /** PostgreSQL connections in the pool. */
  poolSize: number;
  /** PostgreSQL cancels a statement that runs longer; 0 for no limit. */
  statementTimeoutMs: number;
  /** How long to wait for a PostgreSQL connection (or, on SQLite, for the write lock). */
  connectTimeoutMs: number;
}

export const DEFAULT_STORE_OPTIONS: StoreOptions = { poolSize: 10, statementTimeoutMs: 10_000, connectTimeoutMs: 3000 };

export function openStore(
  location: StoreLocation,
  metrics: Metrics,
  options: StoreOptions = DEFAULT_STORE_OPTIONS,
  /** Sees every statement sent, once it has run (e.g. to read its plan, or to trace it). */
  onStatement?: (query: CompiledQuery, durationMs: number, failed: boolean) => void,
): Store {
  const count = () => {
    metrics.storeQueries.inc();
    if (requestScope.getStore() === undefined) metrics.storeBackgroundQueries.inc();
  };
  const log = (event: LogEvent) => {
    count();
    metrics.observeStatement(event.queryDurationMillis);
    if (event.level === 'error') metrics.storeErrors.inc();
    onStatement?.(event.query, event.queryDurationMillis, event.level === 'error');
  };
  const dialect =
    location.dialect === 'sqlite'
      ? new MastheadSqliteDialect({ database: withPreparedStatements(openSqlite(location.file)) })
      : new PostgresDialect({ pool: openPool(location.url, options) });
  const db = new Kysely<Database>({ dialect, log });
  // Opened on first use: a CLI command that never asks keeps to one connection.
  const watch =
    location.dialect === 'sqlite'
      ? new SqliteContentWatch(location.file, db, count)
      : new PostgresContentWatch(location.url, options, (nowMs) => readContentState(db, new Date(nowMs).toISOString()));
  return {
    db,
    dialect: location.dialect,
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    contentState: (nowMs) => watch.current(nowMs),
    watchContent: async () => {
      // Listening (on PostgreSQL), then the state read once: the first request finds it kept.
      if (watch instanceof PostgresContentWatch && !(await watch.start())) return false;
      await watch.current(Date.now());
      return true;
    },
    close: async () => {
      await watch.close();
      await db.destroy();
    },
  };
}

function openPool(url: string, options: StoreOptions): pg.Pool {
  const pool = new (pgModule().Pool)({
    connectionString: url,
    max: options.poolSize,
    connectionTimeoutMillis: options.connectTimeoutMs,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    application_name: 'masthead',
    ...(options.statementTimeoutMs > 0 ? { statement_timeout: options.statementTimeoutMs } : {}),
  });
  // A connection that drops (a restart, a cut network) makes its client emit 'error', also
  // outside any query, and an unheard 'error' ends the process. The query in flight, if any,
  // fails on its own; the pool discards the broken client and opens a fresh one on demand.
  pool.on('error', () => {});
  pool.on('connect', (client) => {
    client.on('error', () => {});
    // Compiled statements run as named (prepared) statements: see preparedStatementName.
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    client.query = ((text: unknown, values?: unknown, ...rest: unknown[]) => {
      const name = typeof text === 'string' && Array.isArray(values) && rest.length === 0 ? preparedStatementName(text) : undefined;
      return name === undefined ? query(text, values, ...rest) : query({ name, text, values });
    }) as typeof client.query;
  });
  return pool;
}
