import DataLoader from 'dataloader';
import {
  findArticleBodies,
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
 * so a page costs the same number of statements whatever its size. Built once per request; each
 * loader is made when a field first asks for it, so a request that reads little (`{ __typename }`,
 * one issue) does not pay for the seventeen it does not use.
 */
export class Loaders {
  readonly #db: Store['db'];
  readonly #dialect: Store['dialect'];
  readonly #now: string;
  readonly #preview: boolean;
  readonly #newslettersAt: string | undefined;
  readonly #options: typeof UNBATCHED | undefined;
  #articleById?: DataLoader<number, Article | null>;
  #articleBySlug?: DataLoader<string, Article | null>;
  #articleBody?: DataLoader<number, string[]>;
  #issueById?: DataLoader<number, Issue | null>;
  #issueByNumber?: DataLoader<number, Issue | null>;
  #authorById?: DataLoader<number, Author | null>;
  #authorBySlug?: DataLoader<string, Author | null>;
  #newsletterById?: DataLoader<number, Newsletter | null>;
  #newsletterBySlug?: DataLoader<string, Newsletter | null>;
  #signUpNewsletter?: DataLoader<number, Newsletter | null>;
  #subscriberCounts?: DataLoader<number, SubscriberCounts>;
  #subscriptionByPublicId?: DataLoader<string, Subscription | null>;
  #bylines?: DataLoader<number, Author[]>;
  #issueArticleCount?: DataLoader<number, number>;
  #issueContributors?: DataLoader<number, Author[]>;
  #authorStats?: DataLoader<number, AuthorStats>;
  #issueArticles?: (window: PageWindow) => PageLoader;
  #authorArticles?: (window: PageWindow) => PageLoader;

  constructor(store: Store, now: string, { batch = true, preview = false }: LoaderOptions = {}) {
    this.#db = store.db;
    this.#dialect = store.dialect;
    this.#now = now;
    this.#preview = preview;
    this.#newslettersAt = preview ? undefined : now;
    this.#options = batch ? undefined : UNBATCHED;
  }

  get articleById(): DataLoader<number, Article | null> {
    this.#articleById ??= new DataLoader(
      async (ids) => inKeyOrder(ids, await findArticlesByIds(this.#db, storable(ids), this.#now, this.#preview), (a) => a.id),
      this.#options,
    );
    return this.#articleById;
  }

  get articleBySlug(): DataLoader<string, Article | null> {
    this.#articleBySlug ??= new DataLoader(
      async (slugs) => inKeyOrder(slugs, await findArticlesBySlugs(this.#db, storable(slugs), this.#now, this.#preview), (a) => a.slug),
      this.#options,
    );
    return this.#articleBySlug;
  }

  /** The body of a piece that a list read without it. */
  get articleBody(): DataLoader<number, string[]> {
    this.#articleBody ??= new DataLoader(async (ids) => {
      const bodies = await findArticleBodies(this.#db, storable(ids));
      return ids.map((id) => bodies.get(id) ?? []);
    }, this.#options);
    return this.#articleBody;
  }

  get issueById(): DataLoader<number, Issue | null> {
    this.#issueById ??= new DataLoader(async (ids) => inKeyOrder(ids, await findIssuesByIds(this.#db, storable(ids), this.#now), (i) => i.id), this.#options);
    return this.#issueById;
  }

  get issueByNumber(): DataLoader<number, Issue | null> {
    this.#issueByNumber ??= new DataLoader(
      async (numbers) => inKeyOrder(numbers, await findIssuesByNumbers(this.#db, storable(numbers), this.#now), (i) => i.number),
      this.#options,
    );
    return this.#issueByNumber;
  }

  get authorById(): DataLoader<number, Author | null> {
    this.#authorById ??= new DataLoader(async (ids) => inKeyOrder(ids, await findAuthorsByIds(this.#db, storable(ids), this.#now), (a) => a.id), this.#options);
    return this.#authorById;
  }

  get authorBySlug(): DataLoader<string, Author | null> {
    this.#authorBySlug ??= new DataLoader(
      async (slugs) => inKeyOrder(slugs, await findAuthorsBySlugs(this.#db, storable(slugs), this.#now), (a) => a.slug),
      this.#options,
    );
    return this.#authorBySlug;
  }

  /** Public newsletters (with `preview`, any): an embargoed piece's newsletter waits for the piece. */
  get newsletterById(): DataLoader<number, Newsletter | null> {
    this.#newsletterById ??= new DataLoader(
      async (ids) => inKeyOrder(ids, await findNewslettersByIds(this.#db, storable(ids), this.#newslettersAt), (n) => n.id),
      this.#options,
    );
    return this.#newsletterById;
  }

  get newsletterBySlug(): DataLoader<string, Newsletter | null> {
    this.#newsletterBySlug ??= new DataLoader(
      async (slugs) => inKeyOrder(slugs, await findNewslettersBySlugs(this.#db, storable(slugs), this.#newslettersAt), (n) => n.slug),
      this.#options,
    );
    return this.#newsletterBySlug;
  }

  /** The newsletter of a sign-up, public or not: whoever may read the sign-up may read what it is to. */
  get signUpNewsletter(): DataLoader<number, Newsletter | null> {
    this.#signUpNewsletter ??= new DataLoader(async (ids) => inKeyOrder(ids, await findNewslettersByIds(this.#db, storable(ids)), (n) => n.id), this.#options);
    return this.#signUpNewsletter;
  }

  get subscriberCounts(): DataLoader<number, SubscriberCounts> {
    this.#subscriberCounts ??= new DataLoader(async (ids) => {
      const counts = inKeyOrder(ids, await countSubscribers(this.#db, ids), (c) => c.newsletterId);
      return counts.map((c, i) => c ?? { newsletterId: ids[i] ?? 0, pending: 0, active: 0, unsubscribed: 0 });
    }, this.#options);
    return this.#subscriberCounts;
  }

  get subscriptionByPublicId(): DataLoader<string, Subscription | null> {
    this.#subscriptionByPublicId ??= new DataLoader(
      async (ids) => inKeyOrder(ids, await findSubscriptionsByPublicIds(this.#db, storable(ids)), (s) => s.publicId),
      this.#options,
    );
    return this.#subscriptionByPublicId;
  }

  get bylines(): DataLoader<number, Author[]> {
    this.#bylines ??= new DataLoader(async (articleIds) => {
      const bylines = await findBylines(this.#db, articleIds);
      return articleIds.map((id) => bylines.get(id) ?? []);
    }, this.#options);
    return this.#bylines;
  }

  get issueArticleCount(): DataLoader<number, number> {
    this.#issueArticleCount ??= new DataLoader(async (issueIds) => {
      const counts = await countIssueArticles(this.#db, issueIds, this.#now);
      return issueIds.map((id) => counts.get(id) ?? 0);
    }, this.#options);
    return this.#issueArticleCount;
  }

  get issueContributors(): DataLoader<number, Author[]> {
    this.#issueContributors ??= new DataLoader(async (issueIds) => {
      const contributors = await findIssueContributors(this.#db, issueIds, this.#now);
      return issueIds.map((id) => contributors.get(id) ?? []);
    }, this.#options);
    return this.#issueContributors;
  }

  get authorStats(): DataLoader<number, AuthorStats> {
    this.#authorStats ??= new DataLoader(async (authorIds) => {
      const stats = await findAuthorStats(this.#db, authorIds, this.#now);
      return authorIds.map((id) => stats.get(id) ?? EMPTY_STATS);
    }, this.#options);
    return this.#authorStats;
  }

  get issueArticles(): (window: PageWindow) => PageLoader {
    this.#issueArticles ??= pageLoaders((ids, window) => listIssueArticles(this.#db, this.#dialect, ids, window), this.#options);
    return this.#issueArticles;
  }

  get authorArticles(): (window: PageWindow) => PageLoader {
    this.#authorArticles ??= pageLoaders((ids, window) => listAuthorArticles(this.#db, this.#dialect, ids, window), this.#options);
    return this.#authorArticles;
  }

  /** Seeds the by-id and by-slug caches with rows that a list already fetched. */
  primeArticles(articles: readonly Article[]): void {
    for (const article of articles) {
      this.articleById.prime(article.id, article);
      this.articleBySlug.prime(article.slug, article);
    }
  }
}

/** The per-request loaders (see Loaders). */
export function createLoaders(store: Store, now: string, options: LoaderOptions = {}): Loaders {
  return new Loaders(store, now, options);
}
