import type SqliteDatabase from 'better-sqlite3';
import type { SqliteDatabase as KyselySqliteDatabase, SqliteStatement } from 'kysely';

/** Enough for every statement the app sends, with room for the page windows clients ask for. */
const MAX_STATEMENTS = 1000;

/**
 * The SQLite database as Kysely's dialect sees it, with its prepared statements kept. Kysely
 * prepares every statement it sends, and preparing costs about what running a small indexed
 * read does. Statements are kept by their text (values stay parameters); past MAX_STATEMENTS
 * the least recently used goes. Safe because a statement runs to completion before the next
 * is prepared: Masthead never streams rows from SQLite.
 */
export function withPreparedStatements(database: SqliteDatabase.Database): KyselySqliteDatabase {
  const statements = new Map<string, SqliteStatement>();
  return {
    close: () => database.close(),
    prepare(sql: string): SqliteStatement {
      let statement = statements.get(sql);
      if (statement) {
        statements.delete(sql);
      } else {
        statement = database.prepare(sql);
        if (statements.size >= MAX_STATEMENTS) statements.delete(statements.keys().next().value as string);
      }
      statements.set(sql, statement);
      return statement;
    },
  };
}
