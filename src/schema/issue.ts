import { countIssues, findLatestIssue, listIssues } from '../store/issue.repository.ts';
import { ArticleConnection, OLDEST_FIRST } from './article.ts';
import { builder } from './builder.ts';
import { ID_KEY, NUMBER_KEY, resolveRepresentation } from './federation.ts';
import { connectionArgs, type CursorKind, pageWindow, toConnection, withTotalCount } from './pagination.ts';
import { AuthorRef, IssueRef } from './refs.ts';

builder.node(IssueRef, {
  description: 'A numbered print edition, e.g. "Issue No. 2060". Public once one of its pieces is.',
  id: { resolve: (issue) => issue.id },
  loadMany: (ids, context) => ids.map((id) => context.loaders.issueById.load(Number(id))),
  fields: (t) => ({
    number: t.exposeInt('number', { description: 'The issue number printed on the cover.' }),
    publishedOn: t.field({
      type: 'Date',
      nullable: true,
      description: 'The cover date, where a source gave one.',
      resolve: (issue) => issue.publishedOn,
    }),
    articles: t.field({
      type: ArticleConnection,
      description: 'The pieces of the issue in running order: by publication time, then import order.',
      args: connectionArgs,
      resolve: async (issue, args, context) => {
        const window = pageWindow(args, OLDEST_FIRST, context);
        const rows = await context.loaders.issueArticles(window).load(issue.id);
        return toConnection(rows, window, OLDEST_FIRST, () => context.loaders.issueArticleCount.load(issue.id));
      },
    }),
    articleCount: t.int({
      description: 'How many public pieces the issue holds.',
      resolve: (issue, _args, context) => context.loaders.issueArticleCount.load(issue.id),
    }),
    contributors: t.field({
      type: [AuthorRef],
      description: 'Everyone in the bylines of the issue, in the order they first appear in it.',
      resolve: (issue, _args, context) => context.loaders.issueContributors.load(issue.id),
    }),
  }),
});

builder.asEntity(IssueRef, {
  key: [ID_KEY, NUMBER_KEY],
  resolveReference: (representation, context) =>
    resolveRepresentation('Issue', representation, (id) => context.loaders.issueById.load(id), {
      field: 'number',
      load: (number) => context.loaders.issueByNumber.load(number),
    }),
});

const IssueConnection = withTotalCount(
  builder.connectionObject(
    { type: IssueRef, name: 'IssueConnection', description: 'A page of print issues.' },
    { name: 'IssueEdge', description: 'A print issue and its cursor.' },
  ),
  'issues',
);

const HIGHEST_NUMBER_FIRST: CursorKind = { name: 'issue-number-desc', parts: ['count'] };

builder.queryFields((t) => ({
  issue: t.field({
    type: IssueRef,
    nullable: true,
    description: 'The print issue with this number; null when there is none.',
    args: { number: t.arg.int({ required: true, description: 'The issue number, e.g. 2060.' }) },
    resolve: (_root, args, context) => context.loaders.issueByNumber.load(args.number),
  }),
  latestIssue: t.field({
    type: IssueRef,
    nullable: true,
    description: 'The public issue with the highest number; null when there is none.',
    resolve: (_root, _args, context) => findLatestIssue(context.store.db, context.now),
  }),
  issues: t.field({
    type: IssueConnection,
    description: 'Print issues, newest (highest number) first.',
    args: connectionArgs,
    resolve: async (_root, args, context) => {
      const window = pageWindow(args, HIGHEST_NUMBER_FIRST, context);
      const { db } = context.store;
      const rows = await listIssues(db, window);
      for (const row of rows) context.loaders.issueById.prime(row.node.id, row.node);
      return toConnection(rows, window, HIGHEST_NUMBER_FIRST, () => countIssues(db, context.now));
    },
  }),
}));
