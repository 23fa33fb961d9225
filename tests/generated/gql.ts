/* eslint-disable */
import * as types from './graphql.js';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "query AuthorDashboard($slug: String!) {\n  author(slug: $slug) {\n    name\n    articleCount\n    firstPublishedAt\n    lastPublishedAt\n    articles(first: 20) {\n      edges {\n        node {\n          headline\n          publishedAt\n          issue {\n            number\n          }\n        }\n      }\n    }\n  }\n  authors(first: 20, orderBy: ARTICLE_COUNT_DESC) {\n    edges {\n      node {\n        name\n        slug\n        articleCount\n        lastPublishedAt\n        articles(first: 3) {\n          edges {\n            node {\n              headline\n            }\n          }\n        }\n      }\n    }\n  }\n}": typeof types.AuthorDashboardDocument,
    "query IssuePage($number: Int!, $first: Int = 50, $after: String) {\n  issue(number: $number) {\n    number\n    publishedOn\n    articleCount\n    articles(first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          slug\n          headline\n          standfirst\n          publishedAt\n          authors {\n            name\n            slug\n          }\n        }\n      }\n    }\n  }\n}": typeof types.IssuePageDocument,
    "query Search($query: String!, $first: Int = 10, $after: String) {\n  search(query: $query, first: $first, after: $after) {\n    totalCount\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n    edges {\n      node {\n        slug\n        headline\n        publishedAt\n      }\n    }\n  }\n}": typeof types.SearchDocument,
    "mutation Subscribe($email: String!, $newsletter: String!) {\n  subscribe(input: {email: $email, newsletter: $newsletter}) {\n    subscription {\n      id\n      status\n      newsletter {\n        name\n      }\n    }\n    userErrors {\n      field\n      code\n      message\n    }\n  }\n}": typeof types.SubscribeDocument,
};
const documents: Documents = {
    "query AuthorDashboard($slug: String!) {\n  author(slug: $slug) {\n    name\n    articleCount\n    firstPublishedAt\n    lastPublishedAt\n    articles(first: 20) {\n      edges {\n        node {\n          headline\n          publishedAt\n          issue {\n            number\n          }\n        }\n      }\n    }\n  }\n  authors(first: 20, orderBy: ARTICLE_COUNT_DESC) {\n    edges {\n      node {\n        name\n        slug\n        articleCount\n        lastPublishedAt\n        articles(first: 3) {\n          edges {\n            node {\n              headline\n            }\n          }\n        }\n      }\n    }\n  }\n}": types.AuthorDashboardDocument,
    "query IssuePage($number: Int!, $first: Int = 50, $after: String) {\n  issue(number: $number) {\n    number\n    publishedOn\n    articleCount\n    articles(first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          slug\n          headline\n          standfirst\n          publishedAt\n          authors {\n            name\n            slug\n          }\n        }\n      }\n    }\n  }\n}": types.IssuePageDocument,
    "query Search($query: String!, $first: Int = 10, $after: String) {\n  search(query: $query, first: $first, after: $after) {\n    totalCount\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n    edges {\n      node {\n        slug\n        headline\n        publishedAt\n      }\n    }\n  }\n}": types.SearchDocument,
    "mutation Subscribe($email: String!, $newsletter: String!) {\n  subscribe(input: {email: $email, newsletter: $newsletter}) {\n    subscription {\n      id\n      status\n      newsletter {\n        name\n      }\n    }\n    userErrors {\n      field\n      code\n      message\n    }\n  }\n}": types.SubscribeDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query AuthorDashboard($slug: String!) {\n  author(slug: $slug) {\n    name\n    articleCount\n    firstPublishedAt\n    lastPublishedAt\n    articles(first: 20) {\n      edges {\n        node {\n          headline\n          publishedAt\n          issue {\n            number\n          }\n        }\n      }\n    }\n  }\n  authors(first: 20, orderBy: ARTICLE_COUNT_DESC) {\n    edges {\n      node {\n        name\n        slug\n        articleCount\n        lastPublishedAt\n        articles(first: 3) {\n          edges {\n            node {\n              headline\n            }\n          }\n        }\n      }\n    }\n  }\n}"): (typeof documents)["query AuthorDashboard($slug: String!) {\n  author(slug: $slug) {\n    name\n    articleCount\n    firstPublishedAt\n    lastPublishedAt\n    articles(first: 20) {\n      edges {\n        node {\n          headline\n          publishedAt\n          issue {\n            number\n          }\n        }\n      }\n    }\n  }\n  authors(first: 20, orderBy: ARTICLE_COUNT_DESC) {\n    edges {\n      node {\n        name\n        slug\n        articleCount\n        lastPublishedAt\n        articles(first: 3) {\n          edges {\n            node {\n              headline\n            }\n          }\n        }\n      }\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query IssuePage($number: Int!, $first: Int = 50, $after: String) {\n  issue(number: $number) {\n    number\n    publishedOn\n    articleCount\n    articles(first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          slug\n          headline\n          standfirst\n          publishedAt\n          authors {\n            name\n            slug\n          }\n        }\n      }\n    }\n  }\n}"): (typeof documents)["query IssuePage($number: Int!, $first: Int = 50, $after: String) {\n  issue(number: $number) {\n    number\n    publishedOn\n    articleCount\n    articles(first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          slug\n          headline\n          standfirst\n          publishedAt\n          authors {\n            name\n            slug\n          }\n        }\n      }\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query Search($query: String!, $first: Int = 10, $after: String) {\n  search(query: $query, first: $first, after: $after) {\n    totalCount\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n    edges {\n      node {\n        slug\n        headline\n        publishedAt\n      }\n    }\n  }\n}"): (typeof documents)["query Search($query: String!, $first: Int = 10, $after: String) {\n  search(query: $query, first: $first, after: $after) {\n    totalCount\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n    edges {\n      node {\n        slug\n        headline\n        publishedAt\n      }\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation Subscribe($email: String!, $newsletter: String!) {\n  subscribe(input: {email: $email, newsletter: $newsletter}) {\n    subscription {\n      id\n      status\n      newsletter {\n        name\n      }\n    }\n    userErrors {\n      field\n      code\n      message\n    }\n  }\n}"): (typeof documents)["mutation Subscribe($email: String!, $newsletter: String!) {\n  subscribe(input: {email: $email, newsletter: $newsletter}) {\n    subscription {\n      id\n      status\n      newsletter {\n        name\n      }\n    }\n    userErrors {\n      field\n      code\n      message\n    }\n  }\n}"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;