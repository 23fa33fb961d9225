import type SqliteDatabase from 'better-sqlite3';
import type { CompiledQuery, Kysely } from 'kysely';
import type pg from 'pg';
import { pgModule, sqliteModule } from './drivers.ts';
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
      this.#connection = new (sqliteModule())(this.#file, { fileMustExist: true });
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

/** Where the content-version trigger announces each new version (see the content-version-notify migration). */
export const CONTENT_VERSION_CHANNEL = 'masthead_content_version';

/** How often the listening connection is asked whether it is alive; an answer later than LIVENESS_TIMEOUT_MS counts as lost. */
const HEARTBEAT_MS = 5000;
const LIVENESS_TIMEOUT_MS = 2000;

export interface PostgresWatchOptions {
  /** How long to wait for the listening connection. */
  connectTimeoutMs: number;
}

/**
 * The content state of a PostgreSQL store without a statement per call. One connection of its
 * own LISTENs on CONTENT_VERSION_CHANNEL, where the store announces every write to public
 * content when it commits, whichever process or instance wrote; the state is read again (one
 * statement, through `read`) only after an announcement, or when the next scheduled piece's time
 * has come. Exact: while that connection is down, not yet listening, or has not answered its
 * heartbeat, every call reads the state; after it (re)connects, the state is read once again,
 * so nothing committed while it was away is missed. A state read while an announcement arrived is
 * returned but not kept. A write becomes visible when its announcement arrives (a round trip
 * after its commit).
 */
export class PostgresContentWatch {
  readonly #url: string;
  readonly #options: PostgresWatchOptions;
  readonly #read: (nowMs: number) => Promise<ContentState>;
  #client: pg.Client | null = null;
  #listening = false;
  #closed = false;
  /** Counts announcements and (re)connections: a kept state is good only for the count it was read at. */
  #generation = 0;
  #state: ContentState | null = null;
  #stateGeneration = -1;
  #nextAt = Number.POSITIVE_INFINITY;
  #pending: { generation: number; promise: Promise<ContentState> } | null = null;
  #heartbeat: NodeJS.Timeout | null = null;
  #reconnectAt = 0;
  #backoffMs = 0;
  #waiters: Array<(listening: boolean) => void> = [];

  /** @param read the state as one statement reads it (readContentState on the store's pool). */
  constructor(url: string, options: PostgresWatchOptions, read: (nowMs: number) => Promise<ContentState>) {
    this.#url = url;
    this.#options = options;
    this.#read = read;
  }

  current(nowMs: number): ContentState | Promise<ContentState> {
    if (this.#client === null && !this.#closed && Date.now() >= this.#reconnectAt) this.#connect();
    if (this.#listening && this.#state !== null && this.#stateGeneration === this.#generation && nowMs < this.#nextAt) return this.#state;
    return this.#refresh(nowMs);
  }

  /** Starts listening now rather than at first use; resolves true once listening, false if not within `timeoutMs`. */
  start(timeoutMs = this.#options.connectTimeoutMs): Promise<boolean> {
    if (this.#listening) return Promise.resolve(true);
    if (this.#client === null && !this.#closed) this.#connect();
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(false), timeoutMs);
      const finish = (listening: boolean) => {
        clearTimeout(timer);
        this.#waiters = this.#waiters.filter((waiter) => waiter !== finish);
        resolve(listening);
      };
      this.#waiters.push(finish);
    });
  }

  async #refresh(nowMs: number): Promise<ContentState> {
    const generation = this.#generation;
    const pending = this.#pending;
    if (pending !== null && pending.generation === generation) {
      // Another request is reading the same generation's state: one statement serves both.
      const state = await pending.promise;
      const next = state.nextPublication === null ? Number.POSITIVE_INFINITY : Date.parse(state.nextPublication);
      if (nowMs < next) return state;
    }
    const promise = this.#read(nowMs);
    this.#pending = { generation, promise };
    try {
      const state = await promise;
      if (this.#listening && generation === this.#generation) {
        this.#state = state;
        this.#stateGeneration = generation;
        this.#nextAt = state.nextPublication === null ? Number.POSITIVE_INFINITY : Date.parse(state.nextPublication);
      }
      return state;
    } finally {
      if (this.#pending?.promise === promise) this.#pending = null;
    }
  }

  #connect(): void {
    const client = new (pgModule().Client)({
      connectionString: this.#url,
      connectionTimeoutMillis: this.#options.connectTimeoutMs,
      keepAlive: true,
      application_name: 'masthead-content-watch',
      query_timeout: LIVENESS_TIMEOUT_MS,
    });
    this.#client = client;
    client.on('notification', (message) => {
      if (message.channel === CONTENT_VERSION_CHANNEL) this.#generation++;
    });
    client.on('error', () => this.#lost(client));
    client.on('end', () => this.#lost(client));
    client
      .connect()
      .then(() => client.query(`LISTEN ${CONTENT_VERSION_CHANNEL}`))
      .then(() => {
        if (this.#client !== client) return;
        // Listening from here on: whatever was committed before is read once, afresh.
        this.#listening = true;
        this.#generation++;
        this.#backoffMs = 0;
        this.#heartbeat = setInterval(() => {
          client.query('select 1').catch(() => this.#lost(client));
        }, HEARTBEAT_MS);
        this.#heartbeat.unref();
        for (const waiter of this.#waiters) waiter(true);
      })
      .catch(() => this.#lost(client));
  }

  #lost(client: pg.Client): void {
    if (this.#client !== client) return;
    this.#client = null;
    this.#listening = false;
    this.#generation++;
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    this.#heartbeat = null;
    client.removeAllListeners('notification');
    client.on('error', () => {});
    client.end().catch(() => {});
    // Tried again on a later call, no sooner than this: every call reads the state meanwhile.
    this.#backoffMs = Math.min(30_000, Math.max(250, this.#backoffMs * 2));
    this.#reconnectAt = Date.now() + this.#backoffMs;
    for (const waiter of this.#waiters) waiter(false);
  }

  async close(): Promise<void> {
    this.#closed = true;
    const client = this.#client;
    if (client) this.#lost(client);
    for (const waiter of this.#waiters) waiter(false);
    await client?.end().catch(() => {});
  }
}
