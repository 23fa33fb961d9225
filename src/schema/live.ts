import { encodeGlobalID } from '@pothos/plugin-relay';
import type { Context } from '../context.ts';
import { codedError } from '../errors/coded-error.ts';
import type { FeedEntry } from '../feed/change-feed.ts';
import type { Article, Issue } from '../store/model.ts';
import { builder } from './builder.ts';
import { ArticleRef, IssueRef } from './refs.ts';

builder.subscriptionType({
  description:
    "Live content, served at /graphql over Server-Sent Events (`Accept: text/event-stream`). Each event carries the change feed's sequence as its SSE id; reconnect with `Last-Event-ID` to replay what was missed.",
});

const ArticleChangeKind = builder.enumType('ArticleChangeKind', {
  description: 'What happened to a piece, as the public sees it.',
  values: {
    PUBLISHED: { description: 'The piece became public: published, or a scheduled piece whose time came.' },
    UPDATED: { description: 'A public piece changed: its text, headline, time, issue or byline.' },
    WITHDRAWN: { description: 'A public piece stopped being public: back to draft, deleted, or moved into the future.' },
  } as const,
});

type ChangeKindValue = 'PUBLISHED' | 'UPDATED' | 'WITHDRAWN';

interface ArticleChangeShape {
  kind: ChangeKindValue;
  articleId: number;
  article: Article | null;
  occurredAt: string;
}

const ArticleChangeRef = builder.objectRef<ArticleChangeShape>('ArticleChange').implement({
  description: 'A change to a piece that the public can see, from the change feed.',
  fields: (t) => ({
    kind: t.field({ type: ArticleChangeKind, description: 'What happened.', resolve: (change) => change.kind }),
    id: t.id({
      description: "The piece's global id (as `Article.id`): also when `article` is null.",
      resolve: (change) => encodeGlobalID('Article', change.articleId),
    }),
    article: t.field({
      type: ArticleRef,
      nullable: true,
      description: 'The piece as a query would show it at that instant: null when you may not see it (a withdrawn piece, to the public).',
      resolve: (change) => change.article,
    }),
    occurredAt: t.field({ type: 'DateTime', description: 'When the change was recorded.', resolve: (change) => change.occurredAt }),
  }),
});

const KINDS: Partial<Record<FeedEntry['kind'], ChangeKindValue>> = {
  'article.published': 'PUBLISHED',
  'article.updated': 'UPDATED',
  'article.withdrawn': 'WITHDRAWN',
};

/**
 * The feed's entries for this stream, each turned into an event by `toEvent` (null: not for this
 * subscriber). Checked when the subscription starts, not at its first event: a subscription
 * outside a stream is refused at once.
 */
function watch<T>(context: Context, toEvent: (entry: FeedEntry, context: Context) => Promise<T | null>): AsyncIterable<T> {
  const live = context.live;
  if (!live) {
    throw codedError('SUBSCRIPTION_NEEDS_EVENT_STREAM', 'Subscriptions are served over Server-Sent Events: send the request with `Accept: text/event-stream`.');
  }
  live.role = context.viewer.role;
  return (async function* () {
    for await (const entry of live.entries()) {
      live.renew(context, entry);
      const event = await toEvent(entry, context);
      if (event === null) continue;
      live.eventSeq = entry.seq;
      yield event;
    }
  })();
}

builder.subscriptionFields((t) => ({
  articlePublished: t.field({
    type: ArticleRef,
    description: 'Each piece as it becomes public (a scheduled piece at its time), optionally only those of one print issue or one author.',
    args: {
      issueNumber: t.arg.int({ required: false, description: "Only pieces in this print issue's number." }),
      authorSlug: t.arg.string({ required: false, description: "Only pieces with this author's slug in the byline." }),
    },
    subscribe: (_parent, args, context) =>
      watch<Article>(context, async (entry, ctx) => {
        if (entry.kind !== 'article.published' || entry.articleId === null) return null;
        const article = await ctx.loaders.articleById.load(entry.articleId);
        if (article === null) return null;
        if (args.issueNumber != null) {
          const issue = article.issueId === null ? null : await ctx.loaders.issueById.load(article.issueId);
          if (issue?.number !== args.issueNumber) return null;
        }
        if (args.authorSlug != null) {
          const authors = await ctx.loaders.bylines.load(article.id);
          if (!authors.some((author) => author.slug === args.authorSlug)) return null;
        }
        return article;
      }),
    resolve: (article) => article,
  }),
  articleChanged: t.field({
    type: ArticleChangeRef,
    description: 'Every change to a piece that the public can see: published, updated or withdrawn.',
    subscribe: (_parent, _args, context) =>
      watch<ArticleChangeShape>(context, async (entry, ctx) => {
        const kind = KINDS[entry.kind];
        if (kind === undefined || entry.articleId === null) return null;
        const article = await ctx.loaders.articleById.load(entry.articleId);
        return { kind, articleId: entry.articleId, article, occurredAt: entry.occurredAt.toISOString() };
      }),
    resolve: (change) => change,
  }),
  issuePublished: t.field({
    type: IssueRef,
    description: 'Each print issue as it gets its first public piece.',
    subscribe: (_parent, _args, context) =>
      watch<Issue>(context, async (entry, ctx) => {
        const issueId = entry.issueIds[0];
        if (entry.kind !== 'issue.published' || issueId === undefined) return null;
        return ctx.loaders.issueById.load(issueId);
      }),
    resolve: (issue) => issue,
  }),
}));
