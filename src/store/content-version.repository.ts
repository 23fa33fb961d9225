import SqliteDatabase from 'better-sqlite3';
import type { CompiledQuery, Kysely } from 'kysely';
import type { Database } from './database.ts';
import { toIsoOrNull } from './model.ts';

export interface ContentState {
  /** Counts every write to public content (kept by triggers; see the content-version migration). */
  version: number;
  /** When the next published piece's time comes, and with it what the public sees; null when none waits. */
  nextPublication: string | null;
}

function contentStateQuery(db: Kysely<Database>, now: string) {
  return db
    .selectFrom('totals')
    .select((eb) => [
      'totals.value',
      eb
        .selectFrom('articles')
        .select((inner) => inner.fn.min('articles.published_at').as('next'))
        .where('articles.status', '=', 'published')
        .where('articles.published_at', '>', now)
        .as('next_publication'),
    ])
    .where('totals.name', '=', 'content_version');
}

type ContentStateRow = { value: number; next_publication: string | Date | null };

const toContentState = (row: ContentStateRow): ContentState => ({
  version: Number(row.value),
  nextPublication: toIsoOrNull(row.next_publication ?? null),
});

/** What public answers depend on besides the request: one statement, two index lookups. */
export async function readContentState(db: Kysely<Database>, now: string): Promise<ContentState> {
  return toContentState(await contentStateQuery(db, now).executeTakeFirstOrThrow());
}

/** Stands for the reader's clock in the statement compiled once for SqliteContentWatch. */
const NOW = '\u0000now';

/**
 * The content state of a SQLite store without a statement per call. A connection of its own to
 * the same file asks `PRAGMA data_version`, which changes whenever any other connection (this
 * process's store, `masthead import` in another process, a SQL prompt) has committed since it
 * last asked: a read of a counter in shared memory, microseconds, no I/O. Only then, or when
 * the next scheduled piece's time has come, is the state read again (one statement, counted by
 * `onRead`). Exact: the version is never older than the last commit before the call.
 */
export class SqliteContentWatch {
  readonly #file: string;
  readonly #statement: CompiledQuery;
  readonly #onRead: () => void;
  #connection: SqliteDatabase.Database | null = null;
  #dataVersion: SqliteDatabase.Statement | null = null;
  #read: SqliteDatabase.Statement | null = null;
  #seen = Number.NaN;
  #state: ContentState | null = null;
  /** When the state must be read again though nothing was committed: the next publication. */
  #nextAt = Number.POSITIVE_INFINITY;

  /** @param db the store's own Kysely, whose compiler writes the statement (readContentState's) once. */
  constructor(file: string, db: Kysely<Database>, onRead: () => void) {
    this.#file = file;
    this.#statement = contentStateQuery(db, NOW).compile();
    this.#onRead = onRead;
  }

  current(nowMs: number): ContentState {
    if (this.#connection === null) {
      this.#connection = new SqliteDatabase(this.#file, { fileMustExist: true });
      this.#connection.pragma('busy_timeout = 5000');
      this.#dataVersion = this.#connection.prepare('PRAGMA data_version').pluck();
      this.#read = this.#connection.prepare(this.#statement.sql);
    }
    const version = this.#dataVersion!.get() as number;
    if (version !== this.#seen || nowMs >= this.#nextAt || this.#state === null) {
      this.#onRead();
      const now = new Date(nowMs).toISOString();
      const row = this.#read!.get(this.#statement.parameters.map((value) => (value === NOW ? now : value))) as ContentStateRow;
      this.#state = toContentState(row);
      const { nextPublication } = this.#state;
      this.#nextAt = nextPublication === null ? Number.POSITIVE_INFINITY : Date.parse(nextPublication);
      this.#seen = version;
    }
    return this.#state;
  }

  close(): void {
    this.#connection?.close();
    this.#connection = null;
  }
}
