import type { FeedEntry } from './change-feed.ts';

/**
 * The keys a CDN purges by (`Surrogate-Key` for Fastly and Varnish, `Cache-Tag` for Cloudflare).
 * An answer carries an entity key for each piece, issue and author in it and a list key for each
 * list it holds; past the header cap (CACHE_KEY_HEADER_MAX_BYTES), its types' keys instead. A
 * feed entry names every key whose answers it may change (purgeKeys), so a purge is exact: a
 * change to one piece purges that piece and the lists that hold it.
 */
export const cacheKeys = {
  article: (id: number) => `article-${id}`,
  issue: (id: number) => `issue-${id}`,
  author: (id: number) => `author-${id}`,
  /** Every list of articles not named below: `articles` (with any filter), and lookups that found nothing. */
  allArticles: 'articles',
  issueArticles: (issueId: number) => `issue-${issueId}-articles`,
  authorArticles: (authorId: number) => `author-${authorId}-articles`,
  search: 'search',
  /** The issues list and `latestIssue`. */
  issues: 'issues',
  /** The authors list (its orders depend on counts and dates). */
  authors: 'authors',
  /** What an answer carries instead of its entity keys when they would not fit. */
  type: (typename: 'Article' | 'Issue' | 'Author') => `type-${typename}`,
} as const;

/**
 * The keys whose answers a feed entry may have changed: the piece and every issue and author it
 * touches (entity keys, their lists), the lists of all articles and of search, the issues and
 * authors lists where the change can move them, and the types' keys, for answers that fell back
 * to those. A pure function of the entry: every instance, and any receiver, computes the same.
 */
export function purgeKeys(entry: FeedEntry): string[] {
  const keys = new Set<string>();
  if (entry.kind === 'issue.published') {
    for (const id of entry.issueIds) keys.add(cacheKeys.issue(id)).add(cacheKeys.issueArticles(id));
    keys.add(cacheKeys.issues).add(cacheKeys.type('Issue'));
    return [...keys];
  }
  if (entry.articleId !== null) keys.add(cacheKeys.article(entry.articleId));
  keys.add(cacheKeys.allArticles).add(cacheKeys.search).add(cacheKeys.type('Article'));
  for (const id of entry.issueIds) keys.add(cacheKeys.issue(id)).add(cacheKeys.issueArticles(id));
  for (const id of entry.authorIds) keys.add(cacheKeys.author(id)).add(cacheKeys.authorArticles(id));
  // An issue or author enters or leaves its list (or moves in an order by count or date) when a
  // piece comes or goes, or moves between them; a piece edited in place moves neither list.
  const moved = entry.kind !== 'article.updated' || entry.issueIds.length > 1;
  if (entry.issueIds.length > 0 && moved) keys.add(cacheKeys.issues);
  if (entry.issueIds.length > 0) keys.add(cacheKeys.type('Issue'));
  if (entry.authorIds.length > 0) keys.add(cacheKeys.authors).add(cacheKeys.type('Author'));
  return [...keys];
}
