import type { ChangeFeed, FeedEntry } from '../../src/feed/change-feed.ts';

/** A change feed in memory, for readers' tests until (and besides) the store's feed: entries are appended by hand. */
export class MemoryFeed implements ChangeFeed {
  readonly entries: FeedEntry[] = [];
  readonly #listeners = new Set<() => void>();

  append(entry: Omit<FeedEntry, 'seq' | 'occurredAt'> & { occurredAt?: Date }): FeedEntry {
    const full: FeedEntry = { seq: (this.entries.at(-1)?.seq ?? 0) + 1, occurredAt: entry.occurredAt ?? new Date(), ...entry };
    this.entries.push(full);
    for (const listener of this.#listeners) listener();
    return full;
  }

  async readAfter(seq: number, limit: number): Promise<FeedEntry[]> {
    return this.entries.filter((entry) => entry.seq > seq).slice(0, limit);
  }

  async latestSeq(): Promise<number> {
    return this.entries.at(-1)?.seq ?? 0;
  }

  async oldestSeq(): Promise<number> {
    return this.entries[0]?.seq ?? 0;
  }

  onNewEntries(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
