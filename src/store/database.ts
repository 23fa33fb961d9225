import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

/**
 * A point in time. Written as an ISO 8601 UTC string; SQLite hands back that string,
 * PostgreSQL (timestamptz) a Date. Repositories turn both into ISO strings at the edge.
 */
export type Timestamp = ColumnType<Date | string, string, string>;
/** A Timestamp that the store fills in with the current time when an insert leaves it out. */
export type DefaultedTimestamp = ColumnType<Date | string, string | undefined, string>;
/** A calendar date, `YYYY-MM-DD` on both dialects. */
export type CalendarDate = ColumnType<string, string, string>;

export type ArticleStatus = 'published' | 'draft';
export type SubscriptionStatus = 'pending' | 'active' | 'unsubscribed';

export interface IssueTable {
  id: Generated<number>;
  number: number;
  published_on: CalendarDate | null;
  created_at: DefaultedTimestamp;
}

export interface AuthorTable {
  id: Generated<number>;
  slug: string;
  name: string;
  /** `name` folded to lower case: the key of AuthorOrder.NAME_ASC. */
  sort_name: string;
  /** Kept: how many bylines of published pieces (whatever their time) the author has. */
  article_count: Generated<number>;
  /** Kept: the earliest and latest publication time among those pieces. */
  first_published_at: Timestamp | null;
  last_published_at: Timestamp | null;
  created_at: DefaultedTimestamp;
}

/**
 * Where a newsletter came from: an editor's (public from the start), or an import's, from a
 * piece's promotion line (public once a piece that promotes it is).
 */
export type NewsletterOrigin = 'editor' | 'import';

export interface NewsletterTable {
  id: Generated<number>;
  slug: string;
  name: string;
  description: string | null;
  origin: ColumnType<NewsletterOrigin, NewsletterOrigin | undefined, NewsletterOrigin>;
  created_at: DefaultedTimestamp;
}

export interface ArticleTable {
  id: Generated<number>;
  slug: string;
  headline: string;
  standfirst: string | null;
  /** Paragraphs joined by a blank line; a paragraph never contains one. */
  body: string;
  word_count: number;
  issue_id: number | null;
  published_at: Timestamp;
  status: ArticleStatus;
  promoted_newsletter_id: number | null;
  created_at: DefaultedTimestamp;
  updated_at: DefaultedTimestamp;
}

export interface BylineTable {
  article_id: number;
  author_id: number;
  position: number;
  /** Copies of the article's, so that an author's public pieces are one index range. */
  published_at: Timestamp;
  status: ArticleStatus;
}

/** Kept totals, by name: `published_articles` counts pieces whose status is published. */
export interface TotalTable {
  name: string;
  value: number;
}

export interface SubscriptionTable {
  id: Generated<number>;
  /** Random: the id the graph shows. Counting ids would tell how long ago an address signed up. */
  public_id: string;
  newsletter_id: number;
  /** The address as the reader gave it, trimmed, with its domain lower-cased. */
  email: string;
  status: SubscriptionStatus;
  created_at: DefaultedTimestamp;
  confirmed_at: Timestamp | null;
  unsubscribed_at: Timestamp | null;
}

export type TokenPurpose = 'confirm' | 'unsubscribe';

/** A token sent in one message, kept only as its SHA-256 hash. */
export interface SubscriptionTokenTable {
  token_hash: string;
  subscription_id: number;
  purpose: TokenPurpose;
  created_at: DefaultedTimestamp;
  expires_at: Timestamp;
  /** When a confirmation token was spent; unsubscribe tokens may be used again. */
  used_at: Timestamp | null;
}

/** What the reader agreed to, when, and through which form: one row per sign-up. */
export interface ConsentTable {
  id: Generated<number>;
  subscription_id: number;
  recorded_at: Timestamp;
  source: string;
  wording_version: string;
  client_address: string | null;
  user_agent: string | null;
}

export type OutboxKind = 'confirm' | 'already-subscribed';
export type OutboxStatus = 'pending' | 'sent' | 'failed' | 'cancelled';

/** A message to send, written in the same transaction as the change that calls for it. */
export interface OutboxTable {
  id: Generated<number>;
  subscription_id: number;
  kind: OutboxKind;
  status: Generated<OutboxStatus>;
  created_at: Timestamp;
  attempts: Generated<number>;
  next_attempt_at: Timestamp;
  /** A sender that claimed the message holds it until then; after, another may retry it. */
  locked_until: Timestamp | null;
  sent_at: Timestamp | null;
  message_id: string | null;
  last_error: string | null;
}

export type Role = 'editor' | 'admin';

/** An API key, kept as the SHA-256 of its secret. */
export interface ApiKeyTable {
  id: Generated<number>;
  name: string;
  role: Role;
  key_hash: string;
  /** The secret's first characters, to tell keys apart in a list. */
  key_prefix: string;
  /** Cost points this key may spend per minute; null: the default for keys. */
  cost_budget: number | null;
  created_at: DefaultedTimestamp;
  revoked_at: Timestamp | null;
}

/** One row: the store's random identity, written when it was made. */
export interface StoreIdentityTable {
  id: string;
}

/** A receiver of webhooks: where events of the types it asked for are POSTed, signed with its secret. */
export interface WebhookEndpointTable {
  id: Generated<number>;
  name: string;
  url: string;
  /** Comma-separated event types. */
  event_types: string;
  /** `whsec_` + base64 of the key: signing needs it as given out. */
  secret: string;
  /** 1 while deliveries go out; 0 once switched off (by a run of failures, or by hand). */
  enabled: Generated<number>;
  /** Failed attempts in a row. */
  failure_run: Generated<number>;
  disabled_at: Timestamp | null;
  disabled_reason: string | null;
  created_at: DefaultedTimestamp;
}

export type WebhookDeliveryStatus = 'pending' | 'delivered' | 'failed';

/** One event for one endpoint: the webhooks' outbox. */
export interface WebhookDeliveryTable {
  id: Generated<number>;
  endpoint_id: number;
  /** The `webhook-id` header, the same on every attempt. */
  message_id: string;
  event_type: string;
  feed_seq: number;
  /** The JSON body, as sent on every attempt. */
  payload: string;
  status: Generated<WebhookDeliveryStatus>;
  attempts: Generated<number>;
  created_at: Timestamp;
  next_attempt_at: Timestamp;
  /** A worker that claimed the delivery holds it until then; after, another may retry it. */
  locked_until: Timestamp | null;
  last_attempt_at: Timestamp | null;
  /** The HTTP status of the last attempt; null when none came (refused, timed out, no connection). */
  last_status: number | null;
  last_duration_ms: number | null;
  /** A short excerpt: what went wrong, or the start of the receiver's answer. */
  last_error: string | null;
  delivered_at: Timestamp | null;
}

/** One row: the feed sequence up to which deliveries were written. */
export interface WebhookFeedCursorTable {
  id: number;
  seq: number;
}

/** One entry of the change feed (see the change-feed migration and src/feed/change-feed.ts). */
export interface ChangeFeedTable {
  seq: Generated<number>;
  occurred_at: DefaultedTimestamp;
  kind: 'article.published' | 'article.updated' | 'article.withdrawn' | 'issue.published';
  article_id: number | null;
  issue_id_before: number | null;
  issue_id_after: number | null;
  /** JSON arrays of author ids, in byline order. */
  author_ids_before: string;
  author_ids_after: string;
}

/** What the public was last told of each public piece: the feed's memory, kept by its triggers. */
export interface FeedAnnouncedTable {
  article_id: number;
  issue_id: number | null;
  author_ids: string;
}

/** Pieces touched by the open transaction, until the feed's flush; empty between transactions. */
export interface FeedPendingTable {
  article_id: number;
  changed: boolean | number;
}

/** One row: the announced-until horizon, and (SQLite) whether the open transaction defers its flush. */
export interface FeedClockTable {
  id: number;
  announced_until: Timestamp;
  deferring: number;
}

export interface Database {
  issues: IssueTable;
  authors: AuthorTable;
  newsletters: NewsletterTable;
  articles: ArticleTable;
  bylines: BylineTable;
  subscriptions: SubscriptionTable;
  subscription_tokens: SubscriptionTokenTable;
  consents: ConsentTable;
  outbox: OutboxTable;
  api_keys: ApiKeyTable;
  totals: TotalTable;
  store_identity: StoreIdentityTable;
  webhook_endpoints: WebhookEndpointTable;
  webhook_deliveries: WebhookDeliveryTable;
  webhook_feed_cursor: WebhookFeedCursorTable;
  change_feed: ChangeFeedTable;
  feed_announced: FeedAnnouncedTable;
  feed_pending: FeedPendingTable;
  feed_clock: FeedClockTable;
}

export type IssueRow = Selectable<IssueTable>;
export type NewIssue = Insertable<IssueTable>;
export type AuthorRow = Selectable<AuthorTable>;
export type NewAuthor = Insertable<AuthorTable>;
export type NewsletterRow = Selectable<NewsletterTable>;
export type NewNewsletter = Insertable<NewsletterTable>;
export type ArticleRow = Selectable<ArticleTable>;
export type NewArticle = Insertable<ArticleTable>;
export type ArticleUpdate = Updateable<ArticleTable>;
export type NewByline = Insertable<BylineTable>;
export type SubscriptionRow = Selectable<SubscriptionTable>;
export type NewSubscription = Insertable<SubscriptionTable>;
export type SubscriptionTokenRow = Selectable<SubscriptionTokenTable>;
export type NewConsent = Insertable<ConsentTable>;
export type OutboxRow = Selectable<OutboxTable>;
