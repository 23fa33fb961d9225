import SqliteDatabase from 'better-sqlite3';
import type pg from 'pg';
import { pgModule } from '../store/drivers.ts';
import type { StoreLocation } from '../config.ts';
import type { Logger } from '../logger.ts';
import { advanceFeedHorizon, hasPiecesDue, pruneFeed, readFeedAfter, readFeedBounds } from '../store/change-feed.repository.ts';
import type { Store } from '../store/store.ts';
import type { ChangeFeed, FeedEntry } from './change-feed.ts';

/** Where the store announces new feed entries on PostgreSQL (see the change-feed migration). */
export const FEED_CHANNEL = 'masthead_feed';

/** How often SQLite's tail asks whether anything was committed (a read of shared memory). */
const SQLITE_TAIL_MS = 100;
/** PostgreSQL: entries arrive by NOTIFY; this poll is the fallback while the listener is down or slow. */
const POSTGRES_POLL_MS = 1000;
/** Recent entries kept in memory, so that every stream reading the same new entries costs no statement. */
const RECENT_ENTRIES = 4096;
const READ_BATCH = 500;

export interface StoreChangeFeedOptions {
  /** How long to wait for the PostgreSQL listening connection. */
  connectTimeoutMs: number;
}

/**
 * The store's change feed, tailed once per process and fanned out in memory. SQLite: a
 * connection of its own asks `PRAGMA data_version` every SQLITE_TAIL_MS and reads the new
 * entries only after a commit (by any process on the file). PostgreSQL: one connection LISTENs
 * on FEED_CHANNEL (reading what is new after each notification, and once more whenever it
 * starts listening); while it is not listening, a poll every POSTGRES_POLL_MS instead, so a
 * dropped connection delays entries, never loses them. Readers keep their own cursors and call
 * readAfter, served from the entries the tail read when it can.
 */
export class StoreChangeFeed implements ChangeFeed {
  readonly #store: Store;
  readonly #location: StoreLocation;
  readonly #options: StoreChangeFeedOptions;
  readonly #listeners = new Set<() => void>();
  /** Entries the tail read, in order, contiguous up to #tailSeq. */
  #recent: FeedEntry[] = [];
  #tailSeq = -1;
  #started: Promise<void> | null = null;
  #closed = false;
  #timer: NodeJS.Timeout | null = null;
  #reading = false;
  #again = false;
  #sqlite: SqliteDatabase.Database | null = null;
  #dataVersion: SqliteDatabase.Statement | null = null;
  #seenVersion = Number.NaN;
  #client: pg.Client | null = null;
  #listening = false;
  #reconnect: NodeJS.Timeout | null = null;

  constructor(store: Store, location: StoreLocation, options: StoreChangeFeedOptions) {
    this.#store = store;
    this.#location = location;
    this.#options = options;
  }

  async readAfter(seq: number, limit: number): Promise<FeedEntry[]> {
    const first = this.#recent[0];
    if (first !== undefined && seq >= first.seq - 1 && seq <= this.#tailSeq) {
      const from = lowerBound(this.#recent, seq + 1);
      return this.#recent.slice(from, from + limit);
    }
    return readFeedAfter(this.#store.db, seq, limit);
  }

  async latestSeq(): Promise<number> {
    return (await readFeedBounds(this.#store.db)).latest;
  }

  async oldestSeq(): Promise<number> {
    return (await readFeedBounds(this.#store.db)).oldest;
  }

  onNewEntries(listener: () => void): () => void {
    this.#listeners.add(listener);
    void this.start();
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Starts tailing now rather than at the first listener; resolves once the tail's position is known. */
  start(): Promise<void> {
    this.#started ??= this.#begin();
    return this.#started;
  }

  async #begin(): Promise<void> {
    this.#tailSeq = (await readFeedBounds(this.#store.db)).latest;
    if (this.#closed) return;
    if (this.#location.dialect === 'sqlite') {
      const file = this.#location.file;
      this.#timer = setInterval(() => this.#pollSqlite(file), SQLITE_TAIL_MS);
    } else {
      const url = this.#location.url;
      // Started once listening and caught up (or after the connect timeout, polling meanwhile).
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.#options.connectTimeoutMs);
        this.#listen(url, () => {
          clearTimeout(timer);
          resolve();
        });
      });
      this.#timer = setInterval(() => {
        if (!this.#listening) this.#check();
      }, POSTGRES_POLL_MS);
    }
    this.#timer.unref();
  }

  #pollSqlite(file: string): void {
    try {
      if (this.#sqlite === null) {
        this.#sqlite = new SqliteDatabase(file, { fileMustExist: true, readonly: true });
        this.#dataVersion = this.#sqlite.prepare('PRAGMA data_version').pluck();
      }
      const version = this.#dataVersion?.get() as number;
      if (version === this.#seenVersion) return;
      this.#seenVersion = version;
    } catch {
      // The file went away or is locked: read through the store, which says what is wrong.
    }
    this.#check();
  }

  #listen(url: string, onListening: () => void = () => {}): void {
    if (this.#closed) return;
    const client = new (pgModule().Client)({
      connectionString: url,
      connectionTimeoutMillis: this.#options.connectTimeoutMs,
      keepAlive: true,
      application_name: 'masthead-feed',
    });
    this.#client = client;
    const lost = () => {
      if (this.#client !== client) return;
      this.#client = null;
      this.#listening = false;
      client.removeAllListeners('notification');
      client.on('error', () => {});
      client.end().catch(() => {});
      if (!this.#closed) {
        this.#reconnect = setTimeout(() => this.#listen(url), 1000);
        this.#reconnect.unref();
      }
    };
    client.on('notification', () => this.#check());
    client.on('error', lost);
    client.on('end', lost);
    client
      .connect()
      .then(() => client.query(`LISTEN ${FEED_CHANNEL}`))
      // Anything committed before the LISTEN took hold is read now.
      .then(() => {
        if (this.#client !== client) return;
        this.#listening = true;
        this.#check(onListening);
      })
      .catch(lost);
  }

  /** Reads what is new since the tail's position; one read at a time, another after it if asked meanwhile. */
  #check(onRead: () => void = () => {}): void {
    if (this.#closed || this.#tailSeq < 0) {
      onRead();
      return;
    }
    if (this.#reading) {
      this.#again = true;
      onRead();
      return;
    }
    this.#reading = true;
    void (async () => {
      let grew = false;
      try {
        for (;;) {
          const entries = await readFeedAfter(this.#store.db, this.#tailSeq, READ_BATCH);
          const last = entries.at(-1);
          if (last === undefined) break;
          this.#recent.push(...entries);
          if (this.#recent.length > RECENT_ENTRIES) this.#recent.splice(0, this.#recent.length - RECENT_ENTRIES);
          this.#tailSeq = last.seq;
          grew = true;
          if (entries.length < READ_BATCH) break;
        }
      } catch {
        // The store is unreachable: the next poll or notification tries again.
      } finally {
        this.#reading = false;
      }
      onRead();
      if (grew) for (const listener of [...this.#listeners]) listener();
      if (this.#again) {
        this.#again = false;
        this.#check();
      }
    })();
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    if (this.#reconnect) clearTimeout(this.#reconnect);
    this.#sqlite?.close();
    this.#sqlite = null;
    const client = this.#client;
    this.#client = null;
    await client?.end().catch(() => {});
    this.#listeners.clear();
  }
}

/** The index of the first entry whose seq is at least `seq`. */
function lowerBound(entries: readonly FeedEntry[], seq: number): number {
  let low = 0;
  let high = entries.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((entries[mid]?.seq ?? Number.POSITIVE_INFINITY) < seq) low = mid + 1;
    else high = mid;
  }
  return low;
}

export interface FeedAnnouncerOptions {
  /** How often the horizon is advanced. */
  intervalMs: number;
  /** Entries older than this are pruned. */
  retentionMs: number;
}

const PRUNE_EVERY_MS = 60_000;

/**
 * Announces scheduled pieces when their time comes. A piece written with a time already past is
 * recorded by its writer's flush; one whose time comes later, with no write, is this one's work:
 * every `intervalMs` it looks, from the store's content state (no statement unless something was
 * committed, see Store.contentState), whether a piece's time may have come, and only then asks
 * the store and advances the horizon (one instance wins each step; see advanceFeedHorizon).
 * Prunes entries past retention.
 */
export class FeedAnnouncer {
  readonly #store: Store;
  readonly #logger: Logger;
  readonly #options: FeedAnnouncerOptions;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;
  /** When to look again: at once at start (pieces whose time passed while no server ran), after a commit, or at the next publication seen. */
  #dueAt = Number.NEGATIVE_INFINITY;
  #version = Number.NaN;
  #lastPrune = 0;

  constructor(store: Store, logger: Logger, options: FeedAnnouncerOptions) {
    this.#store = store;
    this.#logger = logger;
    this.#options = options;
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => {
      if (this.#running) return;
      this.#running = this.tick().finally(() => {
        this.#running = null;
      });
    }, this.#options.intervalMs);
    this.#timer.unref();
  }

  /** One step: advance the horizon if a piece came due, prune if it is time. */
  async tick(now = new Date()): Promise<void> {
    const { db, dialect } = this.#store;
    const nowMs = now.getTime();
    try {
      const state = await this.#store.contentState(nowMs);
      // A commit may have written a piece whose time comes before the next state read shows it.
      const committed = state.version !== this.#version;
      if (committed) this.#dueAt = Number.NEGATIVE_INFINITY;
      this.#version = state.version;
      if (state.nextPublication !== null) this.#dueAt = Math.min(this.#dueAt, Date.parse(state.nextPublication));
      if (nowMs >= this.#dueAt) {
        if (await hasPiecesDue(db, now)) await advanceFeedHorizon(db, dialect, now);
        this.#dueAt = Number.POSITIVE_INFINITY;
      }
      // The feed grows only with commits: pruned after one, at most once a PRUNE_EVERY_MS, so
      // an idle server sends no statement at all.
      if (committed && nowMs - this.#lastPrune >= PRUNE_EVERY_MS) {
        this.#lastPrune = nowMs;
        await this.prune(now);
      }
    } catch (error) {
      // Busy (another instance holds the lock) or the store is down: the next step tries again.
      this.#dueAt = Number.NEGATIVE_INFINITY;
      this.#logger.debug('change feed: the announcer could not advance the horizon:', error);
    }
  }

  /** Drops the entries older than the retention at `now` (the newest is always kept); how many went. */
  async prune(now = new Date()): Promise<number> {
    const pruned = await pruneFeed(this.#store.db, new Date(now.getTime() - this.#options.retentionMs));
    if (pruned > 0) this.#logger.info(`change feed: pruned ${pruned} entries older than the retention`);
    return pruned;
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#running;
  }
}
