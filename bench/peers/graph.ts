// The resolvers that Mercurius and Apollo share, over Masthead's printed schema: root fields as
// plain resolvers, and every per-parent field as a batch function (parents in, results in
// parent order) that each server wires into its own batching (Mercurius' loaders, DataLoader).
import { readFileSync } from 'node:fs';
import type { PeerStore } from './store.ts';
import type { ArticleRow, AuthorRow, AuthorStatsRow, IssueRow } from './store.ts';
import { subscribe, type SubscribeInput } from './common.ts';

// From the repository, where the runner starts every peer (the compiled peers live elsewhere).
export const TYPE_DEFS = readFileSync('schema/schema.graphql', 'utf8');

export interface PeerContext {
  store: PeerStore;
  /** The request's clock, as Masthead's: one instant for every visibility check. */
  now: string;
  client: { address: string | null; userAgent: string | null };
}

type Args = Record<string, unknown>;

const pageSize = (args: Args) => (typeof args.first === 'number' ? args.first : 20);
const connection = <T>(rows: readonly T[], first: number) => ({ edges: rows.slice(0, first).map((node) => ({ node })) });

export const rootResolvers = {
  Query: {
    issue: async (_: unknown, args: { number: number }, ctx: PeerContext) => (await ctx.store.issuesByNumbers([args.number], ctx.now))[0] ?? null,
    author: async (_: unknown, args: { slug: string }, ctx: PeerContext) => (await ctx.store.authorsBySlugs([args.slug], ctx.now))[0] ?? null,
    authors: async (_: unknown, args: Args, ctx: PeerContext) => {
      if (args.orderBy !== 'ARTICLE_COUNT_DESC') throw new Error('the peers serve authors by ARTICLE_COUNT_DESC only');
      const first = pageSize(args);
      return connection(await ctx.store.authorsByArticleCount(first + 1, ctx.now), first);
    },
  },
  Mutation: {
    subscribe: (_: unknown, args: { input: SubscribeInput }, ctx: PeerContext) => subscribe(ctx.store, args.input, ctx.client),
  },
  Article: {
    publishedAt: (article: ArticleRow) => article.published_at,
  },
};

/** A per-parent field: one call for every parent of a tick with the same arguments. */
export interface BatchedField<P> {
  /** Fields with the same `shared` name and arguments share one batch (one DataLoader). */
  shared: string;
  batch(parents: readonly P[], args: Args, ctx: PeerContext): Promise<unknown[]>;
  pick?(value: unknown): unknown;
}

// Authors from the ranking carry their counts already (as Masthead's list primes its stats loader): only the others are read.
const stats = (pick: (stats: AuthorStatsRow) => unknown): BatchedField<AuthorRow & { stats?: AuthorStatsRow }> => ({
  shared: 'Author.stats',
  batch: async (authors, _args, ctx) => {
    const unread = authors.filter((author) => author.stats === undefined).map((author) => author.id);
    const found = await ctx.store.authorStats(unread, ctx.now);
    return authors.map((author) => author.stats ?? found.get(author.id) ?? { articleCount: 0, firstPublishedAt: null, lastPublishedAt: null });
  },
  pick: (value) => pick(value as AuthorStatsRow),
});

export const batchedFields: Record<string, Record<string, BatchedField<never>>> = {
  Issue: {
    articles: {
      shared: 'Issue.articles',
      batch: async (issues: readonly IssueRow[], args, ctx) => {
        const first = pageSize(args);
        const pages = await ctx.store.issueArticles(
          issues.map((issue) => issue.id),
          first + 1,
          ctx.now,
        );
        return issues.map((issue) => connection(pages.get(issue.id) ?? [], first));
      },
    } satisfies BatchedField<IssueRow>,
  },
  Article: {
    authors: {
      shared: 'Article.authors',
      batch: async (articles: readonly ArticleRow[], _args, ctx) => {
        const bylines = await ctx.store.bylines(articles.map((article) => article.id));
        return articles.map((article) => bylines.get(article.id) ?? []);
      },
    } satisfies BatchedField<ArticleRow>,
    issue: {
      shared: 'Article.issue',
      batch: async (articles: readonly ArticleRow[], _args, ctx) => {
        const ids = [...new Set(articles.flatMap((article) => (article.issue_id === null ? [] : [article.issue_id])))];
        const issues = new Map((await ctx.store.issuesByIds(ids, ctx.now)).map((issue) => [issue.id, issue]));
        return articles.map((article) => (article.issue_id === null ? null : (issues.get(article.issue_id) ?? null)));
      },
    } satisfies BatchedField<ArticleRow>,
  },
  Author: {
    articles: {
      shared: 'Author.articles',
      batch: async (authors: readonly AuthorRow[], args, ctx) => {
        const first = pageSize(args);
        const pages = await ctx.store.authorArticles(
          authors.map((author) => author.id),
          first + 1,
          ctx.now,
        );
        return authors.map((author) => connection(pages.get(author.id) ?? [], first));
      },
    } satisfies BatchedField<AuthorRow>,
    articleCount: stats((s) => s.articleCount),
    lastPublishedAt: stats((s) => s.lastPublishedAt),
  },
};
