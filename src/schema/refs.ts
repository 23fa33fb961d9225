import type { Article, Author, Issue, Newsletter, Subscription } from '../store/model.ts';
import { builder } from './builder.ts';

// Declared apart from their fields so that any domain file can name any type without an import cycle.
export const ArticleRef = builder.objectRef<Article>('Article');
export const IssueRef = builder.objectRef<Issue>('Issue');
export const AuthorRef = builder.objectRef<Author>('Author');
export const NewsletterRef = builder.objectRef<Newsletter>('Newsletter');
export const NewsletterSubscriptionRef = builder.objectRef<Subscription>('NewsletterSubscription');

/** The store id behind a node id of this type, or null when the id names another type. */
export function localId(globalId: { typename: string; id: string }, typename: string): number | null {
  return globalId.typename === typename ? Number(globalId.id) : null;
}
