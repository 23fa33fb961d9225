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
/** Per-entry loaders kept for the streams that resolve the same entry (one statement for all of them). */
const SHARED_INSTANTS = 64;

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

  /** Ends every open stream cleanly and refuses new ones (SIGTERM). */
  closeAll(): void {
    this.#closing = true;
    for (const stream of [...this.#streams]) stream.end();
  }
}

/**
 * One stream's reading of the feed: from its cursor (the stream's Last-Event-ID, or the feed's
 * end when it opened), in order, each entry once. The subscription resolvers take entries from
 * it and say which one each event came from (`eventSeq`), which the listener writes as the
 * event's id.
 */
export class LiveSession {
  readonly hub: LiveHub;
  /** The last entry read. */
  cursor: number;
  /** The entry behind the event being delivered: its SSE id. */
  eventSeq = 0;
  #closed = false;
  #dirty = true;
  #wake: (() => void) | null = null;

  constructor(hub: LiveHub, cursor: number) {
    this.hub = hub;
    this.cursor = cursor;
  }

  async *entries(): AsyncGenerator<FeedEntry> {
    const stop = this.hub.feed.onNewEntries(() => this.#signal());
    try {
      while (!this.#closed) {
        this.#dirty = false;
        const batch = await this.hub.feed.readAfter(this.cursor, READ_BATCH);
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

  /** Points the context at `entry`'s instant: its clock and loaders, shared with other streams. */
  renew(context: Context, entry: FeedEntry): void {
    const instant = this.hub.instantFor(entry, context.viewer.role !== 'anonymous');
    context.now = instant.now;
    context.loaders = instant.loaders;
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
