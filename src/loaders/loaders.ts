import DataLoader from 'dataloader';
import {
  findArticlesByIds,
  findArticlesBySlugs,
  findBylines,
  type Keyed,
  listAuthorArticles,
  listIssueArticles,
  type PageWindow,
} from '../store/article.repository.ts';
import { findAuthorStats, findAuthorsByIds, findAuthorsBySlugs } from '../store/author.repository.ts';
import { countIssueArticles, findIssueContributors, findIssuesByIds, findIssuesByNumbers } from '../store/issue.repository.ts';
import type { Article, Author, AuthorStats, Issue, Newsletter, Subscription } from '../store/model.ts';
import { findNewslettersByIds, findNewslettersBySlugs } from '../store/newsletter.repository.ts';
import type { Store } from '../store/store.ts';
import { countSubscribers, findSubscriptionsByPublicIds, type SubscriberCounts } from '../store/subscription.repository.ts';

/** Results in the order of `keys`, null where the store has no row for a key. */
function inKeyOrder<K, V>(keys: readonly K[], rows: readonly V[], keyOf: (row: V) => K): (V | null)[] {
  const byKey = new Map(rows.map((row) => [keyOf(row), row]));
  return keys.map((key) => byKey.get(key) ?? null);
}

const MAX_INT = 2_147_483_647;

/**
 * The keys the store can hold: ids and numbers within its integer range, text without NUL
 * (PostgreSQL refuses both in a statement). Any other key can name nothing, so it is left out
 * of the statement and answers null.
 */
function storable<K extends number | string>(keys: readonly K[]): K[] {
  return keys.filter((key) => (typeof key === 'number' ? Number.isSafeInteger(key) && Math.abs(key) <= MAX_INT : !key.includes('\u0000')));
}

const EMPTY_STATS: AuthorStats = { articleCount: 0, firstPublishedAt: null, lastPublishedAt: null };

type PageLoader = DataLoader<number, Keyed<Article>[]>;

export interface LoaderOptions {
  /**
   * Gather each tick's loads into one statement per loader. Off, every key costs a statement of
   * its own: the N+1 that batching saves, which only the benchmark's naive peer wants to see.
   * @default true
   */
  batch?: boolean;
  /** Articles by id or slug include drafts and scheduled pieces (editors' preview). @default false */
  preview?: boolean;
}

const UNBATCHED = { batch: false };

/**
 * One page of child rows per parent, for every parent in the request, in one statement: a
 * loader per distinct page window (`first`, `after`), since those are part of the query.
 */
function pageLoaders(
  load: (parentIds: readonly number[], window: PageWindow) => Promise<Map<number, Keyed<Article>[]>>,
  options: typeof UNBATCHED | undefined,
) {
  const loaders = new Map<string, PageLoader>();
  return (window: PageWindow): PageLoader => {
    const cacheKey = JSON.stringify([window.limit, window.after]);
    let loader = loaders.get(cacheKey);
    if (!loader) {
      loader = new DataLoader(async (parentIds) => {
        const pages = await load(parentIds, window);
        return parentIds.map((id) => pages.get(id) ?? []);
      }, options);
      loaders.set(cacheKey, loader);
    }
    return loader;
  };
}

/**
 * The per-request loaders: every lookup that a field makes per parent goes through one of these,
 * so a page costs the same number of statements whatever its size. Built once per request.
 */
export function createLoaders(store: Store, now: string, { batch = true, preview = false }: LoaderOptions = {}) {
  const { db } = store;
  const options = batch ? undefined : UNBATCHED;
  const loaders = {
    articleById: new DataLoader<number, Article | null>(
      async (ids) => inKeyOrder(ids, await findArticlesByIds(db, storable(ids), now, preview), (a) => a.id),
      options,
    ),
    articleBySlug: new DataLoader<string, Article | null>(
      async (slugs) => inKeyOrder(slugs, await findArticlesBySlugs(db, storable(slugs), now, preview), (a) => a.slug),
      options,
    ),
    issueById: new DataLoader<number, Issue | null>(async (ids) => inKeyOrder(ids, await findIssuesByIds(db, storable(ids), now), (i) => i.id), options),
    issueByNumber: new DataLoader<number, Issue | null>(
      async (numbers) => inKeyOrder(numbers, await findIssuesByNumbers(db, storable(numbers), now), (i) => i.number),
      options,
    ),
    authorById: new DataLoader<number, Author | null>(async (ids) => inKeyOrder(ids, await findAuthorsByIds(db, storable(ids), now), (a) => a.id), options),
    authorBySlug: new DataLoader<string, Author | null>(
      async (slugs) => inKeyOrder(slugs, await findAuthorsBySlugs(db, storable(slugs), now), (a) => a.slug),
      options,
    ),
    newsletterById: new DataLoader<number, Newsletter | null>(
      async (ids) => inKeyOrder(ids, await findNewslettersByIds(db, storable(ids)), (n) => n.id),
      options,
    ),
    newsletterBySlug: new DataLoader<string, Newsletter | null>(
      async (slugs) => inKeyOrder(slugs, await findNewslettersBySlugs(db, storable(slugs)), (n) => n.slug),
      options,
    ),
    subscriberCounts: new DataLoader<number, SubscriberCounts>(async (ids) => {
      const counts = inKeyOrder(ids, await countSubscribers(db, ids), (c) => c.newsletterId);
      return counts.map((c, i) => c ?? { newsletterId: ids[i] ?? 0, pending: 0, active: 0, unsubscribed: 0 });
    }, options),
    subscriptionByPublicId: new DataLoader<string, Subscription | null>(
      async (ids) => inKeyOrder(ids, await findSubscriptionsByPublicIds(db, storable(ids)), (s) => s.publicId),
      options,
    ),
    bylines: new DataLoader<number, Author[]>(async (articleIds) => {
      const bylines = await findBylines(db, articleIds);
      return articleIds.map((id) => bylines.get(id) ?? []);
    }, options),
    issueArticleCount: new DataLoader<number, number>(async (issueIds) => {
      const counts = await countIssueArticles(db, issueIds, now);
      return issueIds.map((id) => counts.get(id) ?? 0);
    }, options),
    issueContributors: new DataLoader<number, Author[]>(async (issueIds) => {
      const contributors = await findIssueContributors(db, issueIds, now);
      return issueIds.map((id) => contributors.get(id) ?? []);
    }, options),
    authorStats: new DataLoader<number, AuthorStats>(async (authorIds) => {
      const stats = await findAuthorStats(db, authorIds, now);
      return authorIds.map((id) => stats.get(id) ?? EMPTY_STATS);
    }, options),
    issueArticles: pageLoaders((ids, window) => listIssueArticles(db, ids, window), options),
    authorArticles: pageLoaders((ids, window) => listAuthorArticles(db, ids, window), options),
    /** Seeds the by-id and by-slug caches with rows that a list already fetched. */
    primeArticles(articles: readonly Article[]) {
      for (const article of articles) {
        loaders.articleById.prime(article.id, article);
        loaders.articleBySlug.prime(article.slug, article);
      }
    },
  };
  return loaders;
}

export type Loaders = ReturnType<typeof createLoaders>;
