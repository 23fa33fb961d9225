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

export interface NewsletterTable {
  id: Generated<number>;
  slug: string;
  name: string;
  description: string | null;
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
  newsletter_id: number;
  /** The address as the reader gave it, trimmed, with its domain lower-cased. */
  email: string;
  status: SubscriptionStatus;
  created_at: DefaultedTimestamp;
  confirmed_at: Timestamp | null;
  unsubscribed_at: Timestamp | null;
  confirm_token_hash: string | null;
  unsubscribe_token_hash: string | null;
  token_expires_at: Timestamp | null;
}

export interface Database {
  issues: IssueTable;
  authors: AuthorTable;
  newsletters: NewsletterTable;
  articles: ArticleTable;
  bylines: BylineTable;
  subscriptions: SubscriptionTable;
  totals: TotalTable;
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
