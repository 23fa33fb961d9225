/**
 * The change feed: every change to what the public sees, recorded once, in order, in the store,
 * in the same transaction as the change (see the feed's migration). Live subscriptions, the
 * response cache, webhooks and CDN purges all read it.
 *
 * This file is the seam between the feed (which records and tails entries) and its readers.
 */

/** What happened, as the feed records it. */
export type ChangeKind = 'article.published' | 'article.updated' | 'article.withdrawn' | 'issue.published';

export interface FeedEntry {
  /** The feed's sequence: strictly increasing, never reused; the SSE event id. */
  readonly seq: number;
  readonly occurredAt: Date;
  readonly kind: ChangeKind;
  /** The piece, for the article kinds; null for `issue.published`. */
  readonly articleId: number | null;
  /** Every issue the change touches: the piece's issue before and after (an issue kind: that issue). */
  readonly issueIds: readonly number[];
  /** Every author the change touches: the piece's authors before and after. */
  readonly authorIds: readonly number[];
}

/** Reads the feed; one per store, shared by every reader in the process. */
export interface ChangeFeed {
  /**
   * Entries after `seq`, oldest first, at most `limit` of them. May stop short of entries just
   * committed that the process has not heard of yet: onNewEntries calls when it does.
   */
  readAfter(seq: number, limit: number): Promise<FeedEntry[]>;
  /** The newest sequence recorded (0 for an empty feed). */
  latestSeq(): Promise<number>;
  /** The oldest sequence still kept (retention); a replay from before it has lost entries. */
  oldestSeq(): Promise<number>;
  /**
   * Calls `listener` soon after new entries are committed, by any process on the store; returns
   * a function that stops it. Readers then call readAfter from their own cursor.
   */
  onNewEntries(listener: () => void): () => void;
}
