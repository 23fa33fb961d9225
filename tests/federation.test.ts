import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCommunitySubgraph } from '../examples/community-subgraph.ts';
import { createReviewsService } from '../examples/reviews-service.ts';
import { createTestApp, type GraphQLResponse, type TestApp } from './support/app.ts';
import { ROOT, type ServerProcess, startListeningProcess } from './support/cli.ts';
import { type RecordedRequest, type RecordingServer, startRecordingServer } from './support/recording-server.ts';

// Masthead and a second subgraph (examples/community-subgraph.ts: comments on Masthead's
// articles by slug, members who follow Masthead's authors by id), composed and served by a real
// `masthead gateway` process, queried across both in both directions.

// Generous, so that a busy machine does not time out the answers that should arrive.
const TIMEOUT_MS = 2000;

let app: TestApp;
let masthead: RecordingServer;
let community: RecordingServer;
let gateway: ServerProcess;
let articleSlugs: string[];

beforeAll(async () => {
  app = await createTestApp({ seed: { issues: 10, authors: 40, articles: 200, seed: 3 } });
  const { data } = await app.graphql<{
    articles: { edges: { node: { slug: string } }[] };
    authors: { edges: { node: { id: string } }[] };
  }>('{ articles(first: 60) { edges { node { slug } } } authors(first: 30) { edges { node { id } } } }');
  articleSlugs = (data?.articles.edges ?? []).map((edge) => edge.node.slug);
  const authorIds = (data?.authors.edges ?? []).map((edge) => edge.node.id);
  // One comment on each of the 60 newest pieces, so the 50 latest comments are on 50 pieces.
  const subgraph = createCommunitySubgraph({
    comments: articleSlugs.map((articleSlug, index) => ({ articleSlug, body: `Comment ${index}` })),
    members: [
      { name: 'Ada', follows: authorIds.slice(0, 20) },
      { name: 'Ben', follows: authorIds.slice(10, 30) },
    ],
  });
  masthead = await startRecordingServer((url, init) => app.fetch(new URL(url).pathname, init));
  community = await startRecordingServer((url, init) => subgraph.fetch(url, init));
  gateway = await startListeningProcess([
    'gateway',
    '--subgraph',
    `masthead=${masthead.url}`,
    '--subgraph',
    `community=${community.url}`,
    '--timeout-ms',
    String(TIMEOUT_MS),
  ]);
});
afterAll(async () => {
  await gateway?.stop();
  await masthead?.close();
  await community?.close();
  await app?.close();
});

async function throughGateway<T>(query: string): Promise<GraphQLResponse<T>> {
  const response = await fetch(`${gateway.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
  });
  return { status: response.status, ...((await response.json()) as Omit<GraphQLResponse<T>, 'status'>) };
}

/** The representations of each `_entities` field of one request to a subgraph. */
function representationLists(request: RecordedRequest): Array<Array<Record<string, unknown>>> {
  return Object.values(request.variables ?? {}).filter(
    (value): value is Array<Record<string, unknown>> =>
      Array.isArray(value) && value.every((item) => typeof item === 'object' && item !== null && '__typename' in item),
  );
}

/** What one gateway query cost Masthead: its requests, its `_entities` calls by type, its store statements. */
async function measured<T>(query: string) {
  masthead.clear();
  community.clear();
  let response: GraphQLResponse<T> | undefined;
  const statements = await app.statementsFor(async () => {
    response = await throughGateway<T>(query);
  });
  // Hive Gateway sends the representations of each `_entities` field as its own variable
  // (`$_v0_representations`…), and may put several `_entities` fields in one request.
  const entityCalls = masthead
    .entityRequests()
    .flatMap(representationLists)
    .map((representations) => {
      const types = new Set(representations.map((representation) => representation.__typename));
      const keys = new Set(representations.flatMap((representation) => Object.keys(representation).filter((key) => key !== '__typename')));
      return { types: [...types], keys: [...keys], representations: representations.length };
    });
  return { response: response as GraphQLResponse<T>, statements, mastheadRequests: masthead.requests.length, entityCalls };
}

interface ArticlePage {
  articles: { edges: { node: { headline: string; comments: { body: string }[] | null } }[] };
}
const ARTICLES_WITH_COMMENTS = '{ articles(first: 50) { edges { node { headline comments { body } } } } }';
const LATEST_COMMENTS = '{ latestComments(first: 50) { body article { headline authors { name } } } }';

describe('the gateway across Masthead and another subgraph', () => {
  it("adds another subgraph's fields to Masthead's articles: one Masthead request, no _entities", async () => {
    const { response, statements, mastheadRequests, entityCalls } = await measured<ArticlePage>(ARTICLES_WITH_COMMENTS);
    expect(response.errors).toBeUndefined();
    const nodes = response.data?.articles.edges.map((edge) => edge.node) ?? [];
    expect(nodes).toHaveLength(50);
    expect(nodes.every((node) => node.headline.length > 0 && node.comments?.length === 1)).toBe(true);
    expect(mastheadRequests).toBe(1);
    expect(entityCalls).toEqual([]);
    expect(statements).toBe(1);
    // The comments of all 50 pieces come from the other subgraph in one batched _entities call.
    const calls = community.entityRequests();
    expect(calls).toHaveLength(1);
    expect(representationLists(calls[0] as RecordedRequest).map((list) => list.length)).toEqual([50]);
  });

  it("resolves another subgraph's references to Masthead's articles, by slug, in one _entities call and two statements", async () => {
    const { response, statements, mastheadRequests, entityCalls } = await measured<{
      latestComments: { body: string; article: { headline: string; authors: { name: string }[] } | null }[];
    }>(LATEST_COMMENTS);
    expect(response.errors).toBeUndefined();
    const comments = response.data?.latestComments ?? [];
    expect(comments).toHaveLength(50);
    expect(comments.every((comment) => comment.article !== null && comment.article.headline.length > 0)).toBe(true);
    expect(mastheadRequests).toBe(1);
    expect(entityCalls).toEqual([{ types: ['Article'], keys: ['slug'], representations: 50 }]);
    // The articles by id, then their bylines: the same as for a page of 50 on Masthead itself.
    expect(statements).toBe(2);
  });

  it('makes one _entities call per type, in one request, when a query reaches Masthead from two places', async () => {
    const { response, statements, mastheadRequests, entityCalls } = await measured<{
      latestComments: { article: { headline: string } }[];
      members: { name: string; follows: { name: string; articleCount: number }[] }[];
    }>('{ latestComments(first: 50) { article { headline } } members { name follows { name articleCount } } }');
    expect(response.errors).toBeUndefined();
    expect(response.data?.members.map((member) => member.follows.length)).toEqual([20, 20]);
    expect(response.data?.members.flatMap((member) => member.follows).every((author) => author.articleCount > 0)).toBe(true);
    expect(entityCalls.map(({ types, keys }) => ({ types, keys })).sort((a, b) => String(a.types).localeCompare(String(b.types)))).toEqual([
      { types: ['Article'], keys: ['slug'] },
      { types: ['Author'], keys: ['id'] },
    ]);
    expect(mastheadRequests).toBe(1);
    // Articles by id; authors by id, then their counts.
    expect(statements).toBe(3);
  });

  it('refuses a query that does not validate against the supergraph with a 4xx', async () => {
    const response = await throughGateway('{ articles(first: 1) { edges { node { nope } } } }');
    expect(response.status).toBe(400);
    expect(response.errors?.[0]?.message).toMatch(/nope/);
  });
});

describe('the gateway when a subgraph fails', () => {
  it("answers with Masthead's data and a typed error when the other subgraph is down, and /readyz names it", async () => {
    await community.stop();
    try {
      const response = await throughGateway<ArticlePage>(ARTICLES_WITH_COMMENTS);
      expect(response.status).toBe(200);
      const nodes = response.data?.articles.edges.map((edge) => edge.node) ?? [];
      expect(nodes).toHaveLength(50);
      expect(nodes.every((node) => node.headline.length > 0 && node.comments === null)).toBe(true);
      // One error for each part that is missing, at its path.
      expect(response.errors?.map((error) => error.path)).toEqual(nodes.map((_node, index) => ['articles', 'edges', index, 'node', 'comments']));
      for (const error of response.errors ?? []) {
        expect(error.extensions).toMatchObject({ code: 'SUBGRAPH_UNAVAILABLE', serviceName: 'community' });
        expect(error.message).toMatch(/the "community" subgraph at .* is unreachable/);
      }
      const ready = await fetch(`${gateway.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({ status: 'unavailable', unavailable: ['community'], subgraphs: { masthead: 'ready' } });
      expect((await fetch(`${gateway.url}/healthz`)).status).toBe(200);
    } finally {
      await community.start();
    }
    const ready = await fetch(`${gateway.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', subgraphs: { masthead: 'ready', community: 'ready' } });
    expect((await throughGateway<ArticlePage>(ARTICLES_WITH_COMMENTS)).errors).toBeUndefined();
  });

  it('gives up on a subgraph slower than its timeout and answers with the rest', async () => {
    community.delayMs = 3 * TIMEOUT_MS;
    try {
      const started = Date.now();
      const response = await throughGateway<ArticlePage>(ARTICLES_WITH_COMMENTS);
      expect(Date.now() - started).toBeLessThan(2.5 * TIMEOUT_MS);
      expect(response.data?.articles.edges).toHaveLength(50);
      expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'SUBGRAPH_TIMEOUT', serviceName: 'community' });
      expect(response.errors?.[0]?.message).toMatch(`did not answer within ${TIMEOUT_MS} ms`);
      expect(response.errors?.[0]?.path).toEqual(['articles', 'edges', 0, 'node', 'comments']);
    } finally {
      community.delayMs = 0;
    }
  });

  it("gives up on a subgraph that sends its answer's headers in time but not the rest of it", async () => {
    community.bodyDelayMs = 3 * TIMEOUT_MS;
    try {
      const response = await throughGateway<ArticlePage>(ARTICLES_WITH_COMMENTS);
      expect(response.data?.articles.edges).toHaveLength(50);
      expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'SUBGRAPH_TIMEOUT', serviceName: 'community' });
      expect(response.errors?.[0]?.message).toMatch(`did not answer within ${TIMEOUT_MS} ms`);
    } finally {
      community.bodyDelayMs = 0;
    }
  });

  it("keeps the other subgraph's data when Masthead is down", async () => {
    await masthead.stop();
    try {
      const response = await throughGateway<{ latestComments: { body: string; article: unknown }[] }>(
        '{ latestComments(first: 3) { body article { headline } } }',
      );
      expect(response.data?.latestComments.map((comment) => comment.body)).toEqual(['Comment 59', 'Comment 58', 'Comment 57']);
      expect(response.data?.latestComments.every((comment) => comment.article === null)).toBe(true);
      expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'SUBGRAPH_UNAVAILABLE', serviceName: 'masthead' });
      expect(response.errors?.map((error) => error.path)).toEqual([0, 1, 2].map((index) => ['latestComments', index, 'article', 'headline']));
      const ready = await fetch(`${gateway.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({ unavailable: ['masthead'] });
    } finally {
      await masthead.start();
    }
  });

  it('answers alike with the JS query planner (GATEWAY_QUERY_PLANNER=js), in as many subgraph calls', async () => {
    const js = await startListeningProcess(
      ['gateway', '--subgraph', `masthead=${masthead.url}`, '--subgraph', `community=${community.url}`, '--timeout-ms', String(TIMEOUT_MS)],
      { GATEWAY_QUERY_PLANNER: 'js' },
    );
    try {
      for (const query of [ARTICLES_WITH_COMMENTS, LATEST_COMMENTS]) {
        const router = await throughGateway(query);
        masthead.clear();
        community.clear();
        const response = await fetch(`${js.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
        expect({ status: response.status, ...((await response.json()) as object) }).toEqual(router);
        expect(masthead.requests.length + community.requests.length).toBe(2);
      }
    } finally {
      await js.stop();
    }
  });

  it('logs no internal error, and stops cleanly on SIGTERM', async () => {
    expect(await gateway.stop()).toBe(0);
    expect(gateway.output()).not.toMatch(/ (error|warn) /);
    expect(gateway.output()).toMatch(/SIGTERM: shutting down/);
  });
});

describe('the gateway with a REST source that is not a subgraph', () => {
  let reviews: ReturnType<typeof createReviewsService>;
  let reviewsUrl: string;
  let withReviews: ServerProcess;
  let dir: string;

  beforeAll(async () => {
    const [first, second] = articleSlugs;
    reviews = createReviewsService([
      { articleSlug: first as string, stars: 5, text: 'Required reading.' },
      { articleSlug: first as string, stars: 3, text: 'Too long.' },
      { articleSlug: second as string, stars: 4, text: 'Fair.' },
    ]);
    await new Promise<void>((resolve) => reviews.listen(0, '127.0.0.1', resolve));
    reviewsUrl = `http://127.0.0.1:${(reviews.address() as AddressInfo).port}`;
    dir = mkdtempSync(path.join(tmpdir(), 'masthead-sources-'));
    const config = path.join(dir, 'gateway.json');
    writeFileSync(
      config,
      JSON.stringify({
        timeoutMs: TIMEOUT_MS,
        subgraphs: [
          { name: 'masthead', url: masthead.url },
          { name: 'community', url: community.url },
        ],
        sources: [{ name: 'reviews', kind: 'openapi', location: path.join(ROOT, 'examples/reviews-openapi.json'), endpoint: reviewsUrl }],
        joins: path.join(ROOT, 'examples/reviews-joins.graphql'),
      }),
    );
    withReviews = await startListeningProcess(['gateway', '--config', config]);
  });
  afterAll(async () => {
    await withReviews?.stop();
    reviews?.closeAllConnections();
    await new Promise((resolve) => reviews?.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  const QUERY = '{ articles(first: 3) { edges { node { slug headline comments { body } reviews { stars text } } } } }';
  interface Page {
    articles: { edges: { node: { slug: string; headline: string; comments: unknown[] | null; reviews: { stars: number; text: string }[] | null } }[] };
  }
  async function ask(): Promise<GraphQLResponse<Page>> {
    const response = await fetch(`${withReviews.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: QUERY }),
    });
    return { status: response.status, ...((await response.json()) as Omit<GraphQLResponse<Page>, 'status'>) };
  }

  it("joins the REST service's reviews to Masthead's articles, beside the other subgraph's comments", async () => {
    reviews.requests.length = 0;
    const response = await ask();
    expect(response.errors).toBeUndefined();
    const nodes = response.data?.articles.edges.map((edge) => edge.node) ?? [];
    expect(nodes.map((node) => node.slug)).toEqual(articleSlugs.slice(0, 3));
    expect(nodes.map((node) => node.reviews)).toEqual([
      [
        { stars: 3, text: 'Too long.' },
        { stars: 5, text: 'Required reading.' },
      ],
      [{ stars: 4, text: 'Fair.' }],
      [],
    ]);
    expect(nodes.every((node) => node.headline.length > 0 && node.comments?.length === 1)).toBe(true);
    expect(reviews.requests.sort()).toEqual(
      articleSlugs
        .slice(0, 3)
        .map((slug) => `GET /reviews?articleSlug=${slug}`)
        .sort(),
    );
  });

  it('answers with the rest and an error at each missing path when the REST service is down', async () => {
    reviews.closeAllConnections();
    await new Promise((resolve) => reviews.close(resolve));
    try {
      const response = await ask();
      expect(response.status).toBe(200);
      const nodes = response.data?.articles.edges.map((edge) => edge.node) ?? [];
      expect(nodes.map((node) => node.slug)).toEqual(articleSlugs.slice(0, 3));
      expect(nodes.every((node) => node.reviews === null && node.comments?.length === 1)).toBe(true);
      expect(response.errors?.map((error) => error.path)).toEqual([0, 1, 2].map((index) => ['articles', 'edges', index, 'node', 'reviews']));
      for (const error of response.errors ?? []) {
        expect(error.extensions).toMatchObject({ code: 'SUBGRAPH_UNAVAILABLE', serviceName: 'reviews' });
        expect(error.message).toMatch(/^the "reviews" source at http:\/\/127\.0\.0\.1:\d+\/? is unreachable: connect ECONNREFUSED/);
      }
      const ready = await fetch(`${withReviews.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({ unavailable: ['reviews'] });
    } finally {
      await new Promise<void>((resolve) => reviews.listen(Number(new URL(reviewsUrl).port), '127.0.0.1', resolve));
    }
    expect((await ask()).errors).toBeUndefined();
  });
});
