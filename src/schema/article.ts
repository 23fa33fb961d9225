import { type ArticleFilter, countArticles, countSearchResults, listArticles, searchArticles, searchTerms } from '../store/article.repository.ts';
import { builder } from './builder.ts';
import { decodeGlobalID } from './global-id.ts';
import { ID_KEY, SLUG_KEY, resolveRepresentation } from './federation.ts';
import { codedError } from '../errors/coded-error.ts';
import { connectionArgs, type CursorKind, pageWindow, toConnection, withTotalCount } from './pagination.ts';
import { ArticleRef, AuthorRef, IssueRef, localId, NewsletterRef } from './refs.ts';

const ArticleStatus = builder.enumType('ArticleStatus', {
  description: 'Where a piece stands in the publishing process.',
  values: {
    PUBLISHED: { description: 'Out: anyone may read it.' },
    SCHEDULED: { description: 'Published with a time still to come (embargoed): editors only until then.' },
    DRAFT: { description: 'Not published: editors only.' },
  } as const,
});

builder.node(ArticleRef, {
  description: 'A published piece: its text, byline and the print issue it ran in.',
  id: { resolve: (article) => article.id },
  loadMany: (ids, context) => ids.map((id) => context.loaders.articleById.load(Number(id))),
  fields: (t) => ({
    slug: t.exposeString('slug', { description: 'A URL-safe name made from the headline; unique.' }),
    headline: t.exposeString('headline', { description: 'The headline.' }),
    standfirst: t.string({
      nullable: true,
      description: 'A summary: the one the source gave, else the first body paragraph.',
      resolve: async (article, _args, context) => article.standfirst ?? (article.body ?? (await context.loaders.articleBody.load(article.id)))[0] ?? null,
    }),
    body: t.stringList({
      description: 'The body paragraphs, in order.',
      resolve: (article, _args, context) => article.body ?? context.loaders.articleBody.load(article.id),
    }),
    authors: t.field({
      type: [AuthorRef],
      description: 'The byline, in order; empty when the piece has none.',
      resolve: (article, _args, context) => context.loaders.bylines.load(article.id),
    }),
    issue: t.field({
      type: IssueRef,
      nullable: true,
      description: 'The print issue the piece ran in, if any.',
      resolve: (article, _args, context) => (article.issueId === null ? null : context.loaders.issueById.load(article.issueId)),
    }),
    publishedAt: t.field({
      type: 'DateTime',
      description: 'When the piece was published.',
      resolve: (article) => article.publishedAt,
    }),
    wordCount: t.exposeInt('wordCount', { description: 'How many words the body holds.' }),
    status: t.field({
      type: ArticleStatus,
      authScopes: { editor: true },
      description: 'Whether the piece is out, scheduled or a draft. Editors only: they also preview drafts and scheduled pieces by id or slug.',
      resolve: (article, _args, context) => (article.status === 'draft' ? 'DRAFT' : article.publishedAt > context.now ? 'SCHEDULED' : 'PUBLISHED'),
    }),
    promotedNewsletter: t.field({
      type: NewsletterRef,
      nullable: true,
      description: 'The newsletter that the piece invites readers to sign up to, if any.',
      resolve: (article, _args, context) => (article.promotedNewsletterId === null ? null : context.loaders.newsletterById.load(article.promotedNewsletterId)),
    }),
  }),
});

builder.asEntity(ArticleRef, {
  key: [ID_KEY, SLUG_KEY],
  resolveReference: (representation, context) =>
    resolveRepresentation('Article', representation, (id) => context.loaders.articleById.load(id), {
      field: 'slug',
      load: (slug) => context.loaders.articleBySlug.load(slug),
    }),
});

export const ArticleConnection = withTotalCount(
  builder.connectionObject(
    {
      type: ArticleRef,
      name: 'ArticleConnection',
      description: 'A page of articles.',
    },
    { name: 'ArticleEdge', description: 'An article and its cursor.' },
  ),
  'articles',
);

export const NEWEST_FIRST: CursorKind = { name: 'published-desc', parts: ['time', 'id'] };
export const OLDEST_FIRST: CursorKind = { name: 'published-asc', parts: ['time', 'id'] };
const BEST_MATCH: CursorKind = { name: 'search', parts: ['rank', 'id'] };

const ArticleOrder = builder.enumType('ArticleOrder', {
  description: 'How a list of articles is ordered.',
  values: {
    PUBLISHED_AT_DESC: { description: 'Newest first.' },
    PUBLISHED_AT_ASC: { description: 'Oldest first.' },
  } as const,
});

const ArticleFilterInput = builder.inputType('ArticleFilter', {
  description: 'Narrows a list of articles; every given condition must hold.',
  fields: (t) => ({
    issueNumber: t.int({ description: 'Only pieces that ran in the print issue with this number.' }),
    authorSlug: t.string({ description: 'Only pieces whose byline names the author with this slug.' }),
    publishedAfter: t.field({ type: 'DateTime', description: 'Only pieces published strictly after this time.' }),
    publishedBefore: t.field({ type: 'DateTime', description: 'Only pieces published strictly before this time.' }),
  }),
});

builder.queryFields((t) => ({
  article: t.field({
    type: ArticleRef,
    nullable: true,
    description: 'One article by its id or its slug (give exactly one); null when there is none.',
    args: {
      id: t.arg.id({ description: "The article's global id." }),
      slug: t.arg.string({ description: "The article's slug." }),
    },
    resolve: (_root, args, context) => {
      if ((args.id == null) === (args.slug == null)) throw codedError('BAD_USER_INPUT', 'article takes exactly one of id and slug');
      if (args.slug != null) return context.loaders.articleBySlug.load(args.slug);
      const id = localId(decodeGlobalID(String(args.id)), 'Article');
      return id === null ? null : context.loaders.articleById.load(id);
    },
  }),
  articles: t.field({
    type: ArticleConnection,
    description: 'Published articles, newest first unless `orderBy` says otherwise.',
    args: {
      ...connectionArgs,
      filter: t.arg({ type: ArticleFilterInput, description: 'Conditions that every article must meet.' }),
      orderBy: t.arg({ type: ArticleOrder, description: 'The order: PUBLISHED_AT_DESC when omitted.' }),
    },
    resolve: async (_root, args, context) => {
      const order = args.orderBy ?? 'PUBLISHED_AT_DESC';
      const kind = order === 'PUBLISHED_AT_DESC' ? NEWEST_FIRST : OLDEST_FIRST;
      const window = pageWindow(args, kind, context);
      const filter: ArticleFilter = args.filter ?? {};
      const { db } = context.store;
      const rows = await listArticles(db, { ...window, filter, order });
      context.loaders.primeArticles(rows.map((row) => row.node));
      return toConnection(rows, window, kind, () => countArticles(db, filter, context.now));
    },
  }),
  search: t.field({
    type: ArticleConnection,
    description:
      'Full-text search over headline, standfirst and body, best match first. Any text is taken as words to find (all of them); operators and punctuation are ignored.',
    args: {
      query: t.arg.string({ required: true, description: 'The words to look for.' }),
      ...connectionArgs,
    },
    resolve: async (_root, args, context) => {
      const window = pageWindow(args, BEST_MATCH, context);
      const terms = searchTerms(args.query);
      const { db, dialect } = context.store;
      const rows = await searchArticles(db, dialect, terms, window);
      context.loaders.primeArticles(rows.map((row) => row.node));
      return toConnection(rows, window, BEST_MATCH, () => countSearchResults(db, dialect, terms, context.now));
    },
  }),
}));
