import { WorkLoop } from '../background/work-loop.ts';
import type { ChangeFeed } from '../feed/change-feed.ts';
import type { Logger } from '../logger.ts';
import type { Store } from '../store/store.ts';
import { findEnabledEndpoints, type NewDelivery, readFeedCursor, writeDeliveries } from '../store/webhook.repository.ts';
import { eventsFor } from './event-payloads.ts';

/** Feed entries turned into deliveries per transaction. */
const BATCH = 200;

/**
 * Turns the change feed into webhook deliveries. The store keeps a cursor (the last entry
 * turned); each batch of entries after it becomes one row per endpoint that takes the event,
 * written with the cursor's move in one transaction, by compare-and-swap: of several instances
 * doing this at once one writes a batch, the others find the cursor moved and read on from it.
 * A crash before the commit loses nothing (the cursor has not moved); after, nothing is written
 * twice.
 */
export class FeedFanout {
  readonly #store: Store;
  readonly #feed: ChangeFeed;
  readonly #logger: Logger;
  readonly #onWritten: () => void;
  readonly #loop: WorkLoop;
  #stop: (() => void) | null = null;

  constructor(store: Store, feed: ChangeFeed, logger: Logger, onWritten: () => void) {
    this.#store = store;
    this.#feed = feed;
    this.#logger = logger;
    this.#onWritten = onWritten;
    // Sleeps between passes: the feed wakes it when entries are committed.
    this.#loop = new WorkLoop(
      async () => {
        await this.drain();
        return null;
      },
      (error) => {
        logger.warn('webhooks: could not turn the change feed into deliveries:', error);
        return null;
      },
    );
  }

  start(): void {
    this.#stop = this.#feed.onNewEntries(() => this.#loop.nudge());
    this.#loop.start();
  }

  /** Turns what is new now; calls made meanwhile run once more after. */
  nudge(): void {
    this.#loop.nudge();
  }

  async stop(): Promise<void> {
    this.#stop?.();
    this.#stop = null;
    await this.#loop.stop();
  }

  /** Turns every entry after the cursor; resolves with how many deliveries this process wrote. */
  async drain(): Promise<number> {
    let written = 0;
    for (;;) {
      const cursor = await readFeedCursor(this.#store.db);
      const oldest = await this.#feed.oldestSeq();
      if (oldest > cursor + 1 && cursor > 0) {
        this.#logger.warn(`webhooks: change feed entries ${cursor + 1} to ${oldest - 1} were pruned before they were turned into deliveries`);
      }
      const entries = await this.#feed.readAfter(cursor, BATCH);
      const last = entries.at(-1);
      if (!last) return written;
      const endpoints = await findEnabledEndpoints(this.#store.db);
      const deliveries: NewDelivery[] = [];
      if (endpoints.length > 0) {
        for (const event of await eventsFor(this.#store, entries)) {
          for (const endpoint of endpoints) {
            if (endpoint.eventTypes.includes(event.type)) {
              deliveries.push({ endpointId: endpoint.id, messageId: event.messageId, eventType: event.type, feedSeq: event.feedSeq, payload: event.payload });
            }
          }
        }
      }
      if (await writeDeliveries(this.#store.db, cursor, last.seq, deliveries, new Date().toISOString())) {
        written += deliveries.length;
        if (deliveries.length > 0) this.#onWritten();
      } else if (endpoints.length > 0) {
        // Another instance wrote this batch: this worker may share the sending.
        this.#onWritten();
      }
    }
  }
}
