// A second Federation 2 subgraph to compose with Masthead: readers' comments on Masthead's articles,
// and members who follow Masthead's authors. It keeps everything in memory. Run it with
//
//   PORT=4001 npx tsx examples/community-subgraph.ts
//
// The test suite serves the same subgraph (tests/federation.test.ts).
import { createServer } from 'node:http';
import { pathToFileURL } from 'node:url';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { GraphQLError, parse } from 'graphql';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';

const typeDefs = parse(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.6", import: ["@key"])

  "A piece in Masthead, known here by its slug (as on its web page); this subgraph adds what readers say about it."
  type Article @key(fields: "slug") {
    "Masthead's slug of the piece."
    slug: String!
    "Readers' comments on the piece, oldest first. Null when this subgraph does not answer."
    comments: [Comment!]
  }

  "A person in Masthead's bylines, as members follow them."
  type Author @key(fields: "id", resolvable: false) {
    "Masthead's id of the author."
    id: ID!
  }

  "A reader's comment on a piece."
  type Comment {
    id: ID!
    body: String!
    "The piece commented on; null when Masthead does not show it."
    article: Article
  }

  "A member of the publication's supporters' scheme."
  type Member {
    id: ID!
    name: String!
    "The authors the member follows."
    follows: [Author!]!
  }

  type Query {
    "The latest comments, newest first."
    latestComments(first: Int! = 20): [Comment!]!
    "Every member."
    members: [Member!]!
  }

  type Mutation {
    "Adds a comment to a piece, by Masthead's slug of it."
    addComment(articleSlug: String!, body: String!): Comment!
  }
`);

/** What the subgraph holds: comments by Masthead article slug, members by the Masthead author ids they follow. */
export interface CommunityData {
  comments: Array<{ articleSlug: string; body: string }>;
  members: Array<{ name: string; follows: string[] }>;
}

interface Comment {
  id: string;
  articleSlug: string;
  body: string;
}

/** The community subgraph as a Yoga instance (call `yoga.fetch`, or hand it to an HTTP server). */
export function createCommunitySubgraph(data: CommunityData = { comments: [], members: [] }): YogaServerInstance<object, object> {
  const comments: Comment[] = data.comments.map((comment, index) => ({ id: String(index + 1), ...comment }));
  const members = data.members.map((member, index) => ({ id: String(index + 1), ...member }));
  const schema = buildSubgraphSchema({
    typeDefs,
    resolvers: {
      Query: {
        latestComments: (_root: unknown, { first }: { first: number }) => {
          if (first < 0 || first > 100) throw new GraphQLError('first must be from 0 to 100', { extensions: { code: 'BAD_USER_INPUT' } });
          return [...comments].reverse().slice(0, first);
        },
        members: () => members,
      },
      Mutation: {
        addComment: (_root: unknown, { articleSlug, body }: { articleSlug: string; body: string }) => {
          const comment = { id: String(comments.length + 1), articleSlug, body };
          comments.push(comment);
          return comment;
        },
      },
      Article: {
        __resolveReference: (reference: { slug: string }) => ({ slug: reference.slug }),
        comments: (article: { slug: string }) => comments.filter((comment) => comment.articleSlug === article.slug),
      },
      Comment: {
        article: (comment: Comment) => ({ __typename: 'Article', slug: comment.articleSlug }),
      },
      Member: {
        follows: (member: { follows: string[] }) => member.follows.map((id) => ({ __typename: 'Author', id })),
      },
    },
  });
  return createYoga({ schema, graphqlEndpoint: '/graphql', landingPage: false, logging: false });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const port = Number(process.env.PORT ?? 4001);
  const host = process.env.HOST ?? '127.0.0.1';
  createServer(createCommunitySubgraph()).listen(port, host, () => {
    console.log(`community subgraph serves http://${host}:${port}/graphql`);
  });
}
