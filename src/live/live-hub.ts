import type { ExecutionResult } from 'graphql';
import type { Context } from '../context.ts';
import type { ChangeFeed, FeedEntry } from '../feed/change-feed.ts';
import { createLoaders, type Loaders } from '../loaders/loaders.ts';
import type { Store } from '../store/store.ts';

/** The limits of live streams (see LiveConfig in src/config.ts). */
export interface LiveLimits {
  maxStreams: number;
  maxStreamsPerClient: number;
  heartbeatMs: number;
  maxBufferedBytes: number;
  /** How long a stream past maxBufferedBytes may wait for its reader before it is closed. */
  stallMs: number;
}

/** Entries a stream reads from the feed at once. */
const READ_BATCH = 100;
/** Per-entry loaders kept for the groups that resolve the same entry (one statement for all of them). */
const SHARED_INSTANTS = 64;
/**
 * Serialized events kept for the streams of a group that read an entry after the first of them
 * (those behind: replaying, or slower readers). Bounded by count and bytes; a stream that asks
 * for an entry no longer kept has it executed again (the same answer, a little later).
 */
const FRAME_CACHE_ENTRIES = 4096;
const FRAME_CACHE_BYTES = 32 * 2 ** 20;

export type Admission = { admitted: true; release: () => void } | { admitted: false; reason: 'server' | 'client' };

/** Something a hub can end at shutdown. */
export interface ClosableStream {
  /** Ends the stream cleanly (a `complete` event); the client reconnects elsewhere with Last-Event-ID. */
  end(): void;
}

/**
 * One per server: the feed, counts of open streams (per server and per client address), and the
 * per-entry loaders that every public stream resolving the same entry shares: an entry is
 * resolved "as a query at that instant" once, not once per stream.
 */
export class LiveHub {
  readonly feed: ChangeFeed;
  readonly limits: LiveLimits;
  readonly #store: Store;
  readonly #perClient = new Map<string, number>();
  readonly #streams = new Set<ClosableStream>();
  readonly #instants = new Map<string, { now: string; loaders: Loaders }>();
  readonly #groups = new Map<string, LiveGroup>();
  readonly #frames = new Map<string, { frame: Promise<Buffer | null>; bytes: number }>();
  #frameBytes = 0;
  #groupIds = 0;
  #open = 0;
  #closing = false;

  constructor(store: Store, feed: ChangeFeed, limits: LiveLimits) {
    this.#store = store;
    this.feed = feed;
    this.limits = limits;
  }

  /** How many streams are open. */
  get openStreams(): number {
    return this.#open;
  }

  /** Counts a new stream in, or says which limit refuses it. */
  admit(address: string | null): Admission {
    if (this.#closing || this.#open >= this.limits.maxStreams) return { admitted: false, reason: 'server' };
    const key = address ?? 'unknown';
    const count = this.#perClient.get(key) ?? 0;
    if (count >= this.limits.maxStreamsPerClient) return { admitted: false, reason: 'client' };
    this.#perClient.set(key, count + 1);
    this.#open++;
    let released = false;
    return {
      admitted: true,
      release: () => {
        if (released) return;
        released = true;
        this.#open--;
        const left = (this.#perClient.get(key) ?? 1) - 1;
        if (left <= 0) this.#perClient.delete(key);
        else this.#perClient.set(key, left);
      },
    };
  }

  track(stream: ClosableStream): () => void {
    this.#streams.add(stream);
    return () => this.#streams.delete(stream);
  }

  /** The clock and loaders for resolving `entry`, shared by every stream with the same preview right. */
  instantFor(entry: FeedEntry, preview: boolean): { now: string; loaders: Loaders } {
    const key = `${entry.seq}:${preview ? 'preview' : 'public'}`;
    let instant = this.#instants.get(key);
    if (instant === undefined) {
      const now = new Date().toISOString();
      instant = { now, loaders: createLoaders(this.#store, now, { preview }) };
      this.#instants.set(key, instant);
      if (this.#instants.size > SHARED_INSTANTS) {
        const oldest = this.#instants.keys().next().value;
        if (oldest !== undefined) this.#instants.delete(oldest);
      }
    }
    return instant;
  }

  /**
   * The group of streams with `key` (document, operation, variables, role): joined if it runs,
   * else started with `start` (given the group's id). Leave it with `leave`.
   */
  join(key: string, start: (id: number) => LiveGroup): LiveGroup {
    let group = this.#groups.get(key);
    if (group === undefined || group.closed) {
      group = start(++this.#groupIds);
      this.#groups.set(key, group);
    }
    group.streams++;
    return group;
  }

  leave(group: LiveGroup): void {
    group.streams--;
    if (group.streams > 0) return;
    if (this.#groups.get(group.key) === group) this.#groups.delete(group.key);
    group.close();
  }

  /** How many groups run (streams sharing one execution). */
  get groups(): number {
    return this.#groups.size;
  }

  /** A serialized event kept for the other streams of a group, or undefined. */
  frame(key: string): Promise<Buffer | null> | undefined {
    const kept = this.#frames.get(key);
    if (kept === undefined) return undefined;
    // Most recently used last: the oldest entries go first.
    this.#frames.delete(key);
    this.#frames.set(key, kept);
    return kept.frame;
  }

  keepFrame(key: string, frame: Promise<Buffer | null>): void {
    const kept = { frame, bytes: 0 };
    this.#frames.set(key, kept);
    frame.then(
      (text) => {
        if (this.#frames.get(key) !== kept) return;
        kept.bytes = text?.length ?? 0;
        this.#frameBytes += kept.bytes;
        this.#evictFrames();
      },
      () => {
        if (this.#frames.get(key) === kept) this.#frames.delete(key);
      },
    );
    this.#evictFrames();
  }

  #evictFrames(): void {
    for (const [key, kept] of this.#frames) {
      if (this.#frames.size <= FRAME_CACHE_ENTRIES && this.#frameBytes <= FRAME_CACHE_BYTES) break;
      this.#frames.delete(key);
      this.#frameBytes -= kept.bytes;
    }
  }

  /** Ends every open stream cleanly and refuses new ones (SIGTERM). */
  closeAll(): void {
    this.#closing = true;
    for (const stream of [...this.#streams]) stream.end();
  }
}

/**
 * One stream's reading of the feed: from its cursor (the stream's Last-Event-ID, or the feed's
 * end when it opened), in order, each entry once. Entries come from the feed's tail in memory
 * (one read per process, not per stream) except when the stream is far behind.
 */
export class FeedCursor {
  readonly #feed: ChangeFeed;
  /** The last entry read. */
  cursor: number;
  #closed = false;
  #dirty = true;
  #wake: (() => void) | null = null;

  constructor(feed: ChangeFeed, cursor: number) {
    this.#feed = feed;
    this.cursor = cursor;
  }

  async *entries(): AsyncGenerator<FeedEntry> {
    const stop = this.#feed.onNewEntries(() => this.#signal());
    try {
      while (!this.#closed) {
        this.#dirty = false;
        const batch = await this.#feed.readAfter(this.cursor, READ_BATCH);
        for (const entry of batch) {
          if (this.#closed) return;
          this.cursor = entry.seq;
          yield entry;
        }
        if (batch.length === 0 && !this.#dirty && !this.#closed) {
          await new Promise<void>((resolve) => {
            this.#wake = resolve;
          });
          this.#wake = null;
        }
      }
    } finally {
      stop();
    }
  }

  close(): void {
    this.#closed = true;
    this.#signal();
  }

  #signal(): void {
    this.#dirty = true;
    this.#wake?.();
  }
}

interface Job {
  entry: FeedEntry;
  settled: boolean;
  resolve(result: ExecutionResult | null): void;
  reject(error: unknown): void;
}

/**
 * The subscription's side of a group's execution (context.live): the subscription resolvers
 * take entries from it one at a time, as the group asks for them (`run`), and say which entry
 * an event came from (`eventSeq`). An entry the subscription filters out (`toEvent` null) is
 * known when the resolver asks for the next one: its answer is null.
 */
export class LiveSession {
  readonly hub: LiveHub;
  /** The entry behind the event being delivered. */
  eventSeq = 0;
  /** The viewer's role, set when the subscription starts (part of the group's key). */
  role: string | null = null;
  readonly #jobs: Job[] = [];
  #current: Job | null = null;
  #closed = false;
  #wake: (() => void) | null = null;

  constructor(hub: LiveHub) {
    this.hub = hub;
  }

  /** Queues `entry` for the execution; resolves with its result, or null when the subscription sends nothing for it. */
  run(entry: FeedEntry): Promise<ExecutionResult | null> {
    return new Promise((resolve, reject) => {
      if (this.#closed) {
        reject(new Error('The live group is closed.'));
        return;
      }
      this.#jobs.push({ entry, settled: false, resolve, reject });
      this.#wake?.();
    });
  }

  /** Settles the entry being executed with its result (called by the group as the execution yields). */
  settle(result: ExecutionResult): void {
    const job = this.#current;
    if (job === null || job.settled) throw new Error('A live execution yielded a result for no entry.');
    job.settled = true;
    job.resolve(result);
  }

  async *entries(): AsyncGenerator<FeedEntry> {
    for (;;) {
      // Asked for the next entry without an event for the last one: it was filtered out.
      const last = this.#current;
      if (last !== null && !last.settled) {
        last.settled = true;
        last.resolve(null);
      }
      this.#current = null;
      while (this.#jobs.length === 0 && !this.#closed) {
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
        this.#wake = null;
      }
      const job = this.#jobs.shift();
      if (job === undefined) return;
      this.#current = job;
      yield job.entry;
    }
  }

  /** Points the context at `entry`'s instant: its clock and loaders, shared with other groups. */
  renew(context: Context, entry: FeedEntry): void {
    const instant = this.hub.instantFor(entry, context.viewer.role !== 'anonymous');
    context.now = instant.now;
    context.loaders = instant.loaders;
  }

  /** Ends the execution; entries not yet executed are refused. */
  close(error: unknown = new Error('The live group is closed.')): void {
    this.#closed = true;
    const current = this.#current;
    if (current !== null && !current.settled) {
      current.settled = true;
      current.reject(error);
    }
    for (const job of this.#jobs.splice(0)) job.reject(error);
    this.#wake?.();
  }
}

/**
 * Streams that receive the same bytes for one entry: the same document, operation name,
 * variables (filters such as issueNumber are variables or literals of the document) and
 * viewer role. One execution per group (a subscription started by its first stream), one per
 * entry, serialized once; every stream writes that frame from its own cursor, so a stream that
 * is behind still gets every entry in order, once.
 */
export class LiveGroup {
  readonly key: string;
  readonly id: number;
  streams = 0;
  closed = false;
  readonly #hub: LiveHub;
  readonly #session: LiveSession;
  readonly #iterator: AsyncIterator<ExecutionResult>;

  constructor(hub: LiveHub, key: string, id: number, session: LiveSession, iterator: AsyncIterator<ExecutionResult>) {
    this.#hub = hub;
    this.key = key;
    this.id = id;
    this.#session = session;
    this.#iterator = iterator;
    void this.#drive();
  }

  /** The SSE frame (`id:` the entry's seq, `event: next`, `data:` the result) for `entry`, or null when the subscription sends nothing for it. */
  frameFor(entry: FeedEntry): Promise<Buffer | null> {
    const key = `${this.id}:${entry.seq}`;
    const kept = this.#hub.frame(key);
    if (kept !== undefined) return kept;
    // Encoded once: every socket of the group writes the same bytes, not its own copy of a string.
    const frame = this.#session
      .run(entry)
      .then((result) => (result === null ? null : Buffer.from(`id: ${entry.seq}\nevent: next\ndata: ${JSON.stringify(result)}\n\n`)));
    this.#hub.keepFrame(key, frame);
    return frame;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.#session.close();
    void this.#iterator.return?.().catch(() => {});
  }

  /** Pulls the execution's results, one per entry that yields an event, each to the entry asked. */
  async #drive(): Promise<void> {
    try {
      for (;;) {
        const next = await this.#iterator.next();
        if (next.done) break;
        this.#session.settle(next.value);
      }
      this.#session.close();
    } catch (error) {
      // The execution failed (the store is down, say): its streams end, and reconnect with Last-Event-ID.
      this.#session.close(error);
    } finally {
      this.closed = true;
    }
  }
}
