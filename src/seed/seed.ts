import { withFeedBatch } from '../store/change-feed.repository.ts';
import {
  type BulkArticle,
  beginBulkLoad,
  insertArticlesWithBylines,
  insertAuthors,
  insertIssues,
  insertNewslettersIfNew,
  isContentEmpty,
  restoreAfterBulkLoad,
} from '../store/bulk-load.repository.ts';
import type { Store } from '../store/store.ts';
import { recountPublishedArticles, refreshAuthorTotals } from '../store/totals.repository.ts';
import { authorAt, type CorpusSize, DEMO_NEWSLETTERS, generateArticles, issueAt, type SeedArticle } from './corpus.ts';

export interface SeedResult {
  issues: number;
  authors: number;
  articles: number;
  newsletters: number;
}

export class StoreNotEmptyError extends Error {
  override name = 'StoreNotEmptyError';
}

const ARTICLE_CHUNK = 500;

function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

function toBulkArticle(article: SeedArticle, issueIds: number[], authorIds: number[]): BulkArticle {
  return {
    slug: article.slug,
    headline: article.headline,
    body: article.body,
    wordCount: article.wordCount,
    issueId: article.issue === null ? null : (issueIds[article.issue] ?? null),
    publishedAt: article.publishedAt,
    status: article.status,
    authorIds: article.authors.map((author) => authorIds[author] ?? 0),
  };
}

/**
 * Fills an empty store with a deterministic synthetic corpus, in one transaction with
 * multi-row inserts. Refuses (StoreNotEmptyError) when the store already holds content.
 */
export async function seedCorpus(store: Store, size: CorpusSize, onProgress?: (articlesDone: number, total: number) => void): Promise<SeedResult> {
  const run = () =>
    store.db.transaction().execute((trx) =>
      withFeedBatch(trx, store.dialect, async () => {
        await beginBulkLoad(trx, store.dialect);
        if (!(await isContentEmpty(trx))) throw new StoreNotEmptyError('the store already holds content; seed fills an empty store only');

        await insertNewslettersIfNew(trx, DEMO_NEWSLETTERS);
        const issues = Array.from({ length: size.issues }, (_, i) => issueAt(i, size.issues));
        const issueIdByNumber = await insertIssues(trx, issues);
        const issueIds = issues.map((issue) => issueIdByNumber.get(issue.number) ?? 0);
        const authors = Array.from({ length: size.authors }, (_, i) => authorAt(i));
        const authorIdBySlug = await insertAuthors(trx, authors);
        const authorIds = authors.map((author) => authorIdBySlug.get(author.slug) ?? 0);

        let done = 0;
        let batch: SeedArticle[] = [];
        const flush = async () => {
          await insertArticlesWithBylines(
            trx,
            batch.map((article) => toBulkArticle(article, issueIds, authorIds)),
          );
          done += batch.length;
          batch = [];
          onProgress?.(done, size.articles);
        };
        for (const article of generateArticles(size)) {
          batch.push(article);
          if (batch.length === ARTICLE_CHUNK) await flush();
        }
        if (batch.length > 0) await flush();
        await refreshAuthorTotals(trx, 'all');
        await recountPublishedArticles(trx);
        return { issues: issues.length, authors: authors.length, articles: done, newsletters: DEMO_NEWSLETTERS.length };
      }),
    );
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await run();
      await restoreAfterBulkLoad(store.db, store.dialect);
      return result;
    } catch (error) {
      if (!isBusy(error) || attempt >= 20) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 200));
    }
  }
}
