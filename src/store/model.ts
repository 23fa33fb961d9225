import type { ArticleStatus, SubscriptionStatus } from './database.ts';

// Domain shapes: what repositories hand to the rest of the app. Times are ISO 8601 UTC strings.

export interface Article {
  id: number;
  slug: string;
  headline: string;
  /** As the source gave it; null when it gave none. */
  standfirst: string | null;
  body: string[];
  wordCount: number;
  issueId: number | null;
  publishedAt: string;
  status: ArticleStatus;
  promotedNewsletterId: number | null;
}

export interface Issue {
  id: number;
  number: number;
  publishedOn: string | null;
}

export interface Author {
  id: number;
  slug: string;
  name: string;
}

export interface AuthorStats {
  articleCount: number;
  firstPublishedAt: string | null;
  lastPublishedAt: string | null;
}

export interface Newsletter {
  id: number;
  slug: string;
  name: string;
  description: string | null;
}

export interface Subscription {
  id: number;
  /** The random id the graph shows. */
  publicId: string;
  newsletterId: number;
  email: string;
  status: SubscriptionStatus;
  createdAt: string;
  confirmedAt: string | null;
}

/** A value of a keyset: the sort key of the last row of a page, its id last. */
export type KeysetValue = string | number;

export const PARAGRAPH_SEPARATOR = '\n\n';

export function toIso(value: Date | string): string {
  return typeof value === 'string' ? new Date(value).toISOString() : value.toISOString();
}

export function toIsoOrNull(value: Date | string | null): string | null {
  return value === null ? null : toIso(value);
}
