import { randomBytes } from 'node:crypto';
import type { FeedEntry } from '../feed/change-feed.ts';
import { purgeKeys } from '../feed/cache-keys.ts';
import { findArticlesByIds, findBylines } from '../store/article.repository.ts';
import { findIssuesByIdsUnfiltered } from '../store/issue.repository.ts';
import type { Author } from '../store/model.ts';
import type { Store } from '../store/store.ts';
import type { EventType } from './endpoints.ts';

/** A global id as the graph issues it (the relay plugin's: base64 of `Type:id`). */
export const globalId = (typename: 'Article' | 'Issue' | 'Author', id: number) => Buffer.from(`${typename}:${id}`).toString('base64');

/** One event, as every endpoint that takes its type receives it. */
export interface WebhookEvent {
  messageId: string;
  type: EventType;
  feedSeq: number;
  /** The JSON body: `{ type, timestamp, data }`. */
  payload: string;
}

const newMessageId = () => `msg_${randomBytes(16).toString('base64url')}`;

/**
 * The events a batch of feed entries makes: one per entry, plus a `cache.purge` naming the keys
 * the entry invalidates (sent only to endpoints that ask for it). A piece's data is read as it is
 * when the events are made: its id (the graph's), slug, headline, publishedAt, issue number and
 * authors; for a withdrawal only its id. Reads are batched: three statements for the batch.
 */
export async function eventsFor(store: Store, entries: readonly FeedEntry[]): Promise<WebhookEvent[]> {
  const articleIds = [...new Set(entries.flatMap((e) => (e.articleId !== null && e.kind !== 'article.withdrawn' ? [e.articleId] : [])))];
  const now = new Date().toISOString();
  // preview: the piece as it is in the store, whatever has happened to it since the entry.
  const [articles, bylines] = await Promise.all([
    articleIds.length > 0 ? findArticlesByIds(store.db, articleIds, now, true) : [],
    articleIds.length > 0 ? findBylines(store.db, articleIds) : new Map<number, Author[]>(),
  ]);
  const issueIds = [...new Set([...entries.flatMap((e) => e.issueIds), ...articles.flatMap((a) => (a.issueId === null ? [] : [a.issueId]))])];
  const issues = issueIds.length > 0 ? await findIssuesByIdsUnfiltered(store.db, issueIds) : [];
  const articleById = new Map(articles.map((a) => [a.id, a]));
  const issueById = new Map(issues.map((i) => [i.id, i]));
  const events: WebhookEvent[] = [];
  for (const entry of entries) {
    const timestamp = entry.occurredAt.toISOString();
    let data: Record<string, unknown>;
    if (entry.kind === 'issue.published') {
      const issue = issueById.get(entry.issueIds[0] ?? 0);
      data = issue
        ? { id: globalId('Issue', issue.id), number: issue.number, publishedOn: issue.publishedOn }
        : { id: globalId('Issue', entry.issueIds[0] ?? 0) };
    } else {
      const id = entry.articleId ?? 0;
      const article = entry.kind === 'article.withdrawn' ? undefined : articleById.get(id);
      data = article
        ? {
            id: globalId('Article', article.id),
            slug: article.slug,
            headline: article.headline,
            publishedAt: article.publishedAt,
            issueNumber: article.issueId === null ? null : (issueById.get(article.issueId)?.number ?? null),
            authors: (bylines.get(article.id) ?? []).map((author) => ({
              id: globalId('Author', author.id),
              slug: author.slug,
              name: author.name,
            })),
          }
        : { id: globalId('Article', id) };
    }
    events.push({ messageId: newMessageId(), type: entry.kind, feedSeq: entry.seq, payload: JSON.stringify({ type: entry.kind, timestamp, data }) });
    events.push({
      messageId: newMessageId(),
      type: 'cache.purge',
      feedSeq: entry.seq,
      payload: JSON.stringify({ type: 'cache.purge', timestamp, data: { keys: purgeKeys(entry) } }),
    });
  }
  return events;
}
