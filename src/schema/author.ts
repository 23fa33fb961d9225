import { type AuthorOrder, countAuthors, listAuthors } from '../store/author.repository.ts';
import { ArticleConnection, NEWEST_FIRST } from './article.ts';
import { builder } from './builder.ts';
import { decodeGlobalID } from './global-id.ts';
import { ID_KEY, SLUG_KEY, resolveRepresentation } from './federation.ts';
import { codedError } from '../errors/coded-error.ts';
import { connectionArgs, type CursorKind, pageWindow, toConnection, withTotalCount } from './pagination.ts';
import { AuthorRef, localId } from './refs.ts';

builder.node(AuthorRef, {
  description: 'A person in the bylines. Public once one of their pieces is.',
  id: { resolve: (author) => author.id },
  loadMany: (ids, context) => ids.map((id) => context.loaders.authorById.load(Number(id))),
  fields: (t) => ({
    slug: t.exposeString('slug', { description: "A URL-safe name made from the author's name; unique." }),
    name: t.exposeString('name', { description: 'The name as the byline gives it.' }),
    articles: t.field({
      type: ArticleConnection,
      description: "The author's public pieces, newest first.",
      args: connectionArgs,
      resolve: async (author, args, context) => {
        const window = pageWindow(args, NEWEST_FIRST, context);
        const rows = await context.loaders.authorArticles(window).load(author.id);
        return toConnection(rows, window, NEWEST_FIRST, async () => {
          const stats = await context.loaders.authorStats.load(author.id);
          return stats.articleCount;
        });
      },
    }),
    articleCount: t.int({
      description: "How many public pieces carry the author's byline.",
      resolve: async (author, _args, context) => (await context.loaders.authorStats.load(author.id)).articleCount,
    }),
    firstPublishedAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: "When the author's first public piece was published.",
      resolve: async (author, _args, context) => (await context.loaders.authorStats.load(author.id)).firstPublishedAt,
    }),
    lastPublishedAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: "When the author's latest public piece was published.",
      resolve: async (author, _args, context) => (await context.loaders.authorStats.load(author.id)).lastPublishedAt,
    }),
  }),
});

builder.asEntity(AuthorRef, {
  key: [ID_KEY, SLUG_KEY],
  resolveReference: (representation, context) =>
    resolveRepresentation('Author', representation, (id) => context.loaders.authorById.load(id), {
      field: 'slug',
      load: (slug) => context.loaders.authorBySlug.load(slug),
    }),
});

const AuthorConnection = withTotalCount(
  builder.connectionObject(
    { type: AuthorRef, name: 'AuthorConnection', description: 'A page of authors.' },
    { name: 'AuthorEdge', description: 'An author and their cursor.' },
  ),
  'authors',
);

const AuthorOrderEnum = builder.enumType('AuthorOrder', {
  description: 'How a list of authors is ordered.',
  values: {
    NAME_ASC: { description: 'By name as written (first name first), ignoring case.' },
    ARTICLE_COUNT_DESC: { description: 'Most public pieces first.' },
    LAST_PUBLISHED_DESC: { description: 'Most recently published first.' },
  } as const,
});

const AUTHOR_CURSORS: Record<AuthorOrder, CursorKind> = {
  NAME_ASC: { name: 'author-name-asc', parts: ['text', 'id'] },
  ARTICLE_COUNT_DESC: { name: 'author-count-desc', parts: ['count', 'id'] },
  LAST_PUBLISHED_DESC: { name: 'author-last-desc', parts: ['time', 'id'] },
};

builder.queryFields((t) => ({
  author: t.field({
    type: AuthorRef,
    nullable: true,
    description: 'One author by id or slug (give exactly one); null when there is none.',
    args: {
      id: t.arg.id({ description: "The author's global id." }),
      slug: t.arg.string({ description: "The author's slug." }),
    },
    resolve: (_root, args, context) => {
      if ((args.id == null) === (args.slug == null)) throw codedError('BAD_USER_INPUT', 'author takes exactly one of id and slug');
      if (args.slug != null) return context.loaders.authorBySlug.load(args.slug);
      const id = localId(decodeGlobalID(String(args.id)), 'Author');
      return id === null ? null : context.loaders.authorById.load(id);
    },
  }),
  authors: t.field({
    type: AuthorConnection,
    description: 'Authors with public pieces, by name unless `orderBy` says otherwise.',
    args: {
      ...connectionArgs,
      orderBy: t.arg({ type: AuthorOrderEnum, description: 'The order: NAME_ASC when omitted.' }),
    },
    resolve: async (_root, args, context) => {
      const order = args.orderBy ?? 'NAME_ASC';
      const kind = AUTHOR_CURSORS[order];
      const window = pageWindow(args, kind, context);
      const { db } = context.store;
      const rows = await listAuthors(db, { ...window, order });
      for (const row of rows) {
        context.loaders.authorById.prime(row.node.id, row.node);
        if (row.stats) context.loaders.authorStats.prime(row.node.id, row.stats);
      }
      return toConnection(rows, window, kind, () => countAuthors(db, context.now));
    },
  }),
}));
