import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { createYoga } from 'graphql-yoga';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCommunitySubgraph } from '../examples/community-subgraph.ts';
import { type ServerProcess, startListeningProcess } from './support/cli.ts';

// `masthead gateway` on Hive Gateway's runtime with subgraphs of the test's own: a "wire" subgraph
// (a news wire with a Subscription root, as Masthead's live updates will have) and the community
// example. Store-free: no Masthead store is involved.

const WIRE_V1 = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.6", import: ["@key"])
  "A piece on the wire, known by the slug that Masthead and the community subgraph share."
  type Article @key(fields: "slug") {
    slug: String!
    title: String!
  }
  type Query {
    "The request headers this subgraph received from the gateway, as name=value."
    headersSeen: [String!]!
    latest: Article
  }
  type Subscription {
    "The given slugs, one event each, everyMs apart, then the end of the stream."
    articleArrived(slugs: [String!]!, everyMs: Int! = 20): Article!
    "One event: the request headers of this subscription's request from the gateway."
    headersSeen: [String!]!
  }
`;
// What a later deploy of the wire subgraph serves: one field more.
const WIRE_V2 = WIRE_V1.replace('title: String!', 'title: String!\n    wordCount: Int!');

function startWire(): Promise<Server> {
  const schema = buildSubgraphSchema({
    typeDefs: parse(WIRE_V2),
    resolvers: {
      Query: {
        headersSeen: (_root: unknown, _args: unknown, context: unknown) =>
          [...(context as { request: Request }).request.headers].map(([name, value]) => `${name}=${value}`),
        latest: () => ({ slug: 'first', title: 'First' }),
      },
      Subscription: {
        headersSeen: {
          subscribe: async function* (_root: unknown, _args: unknown, context: unknown) {
            yield { headersSeen: [...(context as { request: Request }).request.headers].map(([name, value]) => `${name}=${value}`) };
          },
        },
        articleArrived: {
          subscribe: async function* (_root: unknown, { slugs, everyMs }: { slugs: string[]; everyMs: number }) {
            for (const slug of slugs) {
              await new Promise((resolve) => setTimeout(resolve, everyMs));
              yield { articleArrived: { slug, title: slug.toUpperCase() } };
            }
          },
        },
      },
      Article: {
        __resolveReference: (reference: { slug: string }) => ({ slug: reference.slug, title: reference.slug.toUpperCase() }),
        wordCount: () => 42,
      },
    },
  });
  const server = createServer(createYoga({ schema, graphqlEndpoint: '/graphql', landingPage: false, logging: false }));
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

// Each subgraph request's limit; a subscription's stream may outlive it.
const TIMEOUT_MS = 1000;

const urlOf = (server: Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;

let dir: string;
let wire: Server;
let community: Server;
let gateway: ServerProcess;
let wireSchemaFile: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'masthead-gateway-runtime-'));
  wire = await startWire();
  community = createServer(createCommunitySubgraph({ comments: [{ articleSlug: 'second', body: 'Well put.' }], members: [] }));
  await new Promise<void>((resolve) => community.listen(0, '127.0.0.1', resolve));
  // The wire's schema from a file that says less than the wire serves, until a test changes it.
  wireSchemaFile = path.join(dir, 'wire.graphql');
  writeFileSync(wireSchemaFile, WIRE_V1);
  const config = path.join(dir, 'gateway.json');
  writeFileSync(
    config,
    JSON.stringify({
      timeoutMs: TIMEOUT_MS,
      subgraphs: [
        { name: 'wire', url: urlOf(wire), schema: 'wire.graphql' },
        { name: 'community', url: urlOf(community) },
      ],
    }),
  );
  gateway = await startListeningProcess(['gateway', '--config', config], {
    GATEWAY_POLL_MS: '200',
    GATEWAY_FORWARD_HEADERS: 'Authorization, X-Request-Id, X-Edition',
  });
});

afterAll(async () => {
  await gateway?.stop();
  for (const server of [wire, community]) {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  }
  rmSync(dir, { recursive: true, force: true });
});

async function post(query: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${gateway.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query }),
  });
  return { status: response.status, body: (await response.json()) as { data?: Record<string, unknown>; errors?: Array<{ message: string }> } };
}

/** Reads a GraphQL-over-SSE answer to its end: the `data` of each `next` event. */
async function subscribe(query: string): Promise<{ status: number; type: string | null; events: unknown[] }> {
  const response = await fetch(`${gateway.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({ query }),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  const events = text
    .split('\n\n')
    .filter((block) => /^event: next$/m.test(block))
    .map((block) => JSON.parse(block.replace(/^[\s\S]*?^data: /m, '')) as unknown);
  return { status: response.status, type: response.headers.get('content-type'), events };
}

describe('the gateway on Hive Gateway', () => {
  it('sends the chosen client headers on to the subgraphs, and no others', async () => {
    const { body } = await post('{ headersSeen }', {
      authorization: 'Bearer editor-key',
      'x-request-id': 'req-17',
      'x-edition': 'uk',
      cookie: 'session=secret',
      'x-not-chosen': 'no',
    });
    expect(body.errors).toBeUndefined();
    const seen = body.data?.headersSeen as string[];
    expect(seen).toEqual(expect.arrayContaining(['authorization=Bearer editor-key', 'x-request-id=req-17', 'x-edition=uk']));
    expect(seen.some((header) => /^(cookie|x-not-chosen)=/.test(header))).toBe(false);
  });

  it('asks a subgraph for one JSON answer for a query, and for an event stream for a subscription', async () => {
    // A client that would take incremental delivery does not change what a plain query asks the subgraph for.
    const { body } = await post('{ headersSeen }', { accept: 'multipart/mixed, application/json' });
    expect(body.errors).toBeUndefined();
    expect(((body.data?.headersSeen ?? []) as string[]).filter((header) => header.startsWith('accept='))).toEqual([
      'accept=application/graphql-response+json, application/json',
    ]);

    const { events } = await subscribe('subscription { headersSeen }');
    const seen = (events as Array<{ data: { headersSeen: string[] } }>)[0]?.data.headersSeen ?? [];
    expect(seen.filter((header) => header.startsWith('accept='))).toEqual(['accept=text/event-stream']);
  });

  it("carries a subscription of a subgraph to the client over SSE, with another subgraph's fields joined into each event", async () => {
    const { status, type, events } = await subscribe('subscription { articleArrived(slugs: ["first", "second"]) { slug title comments { body } } }');
    expect(status).toBe(200);
    expect(type).toMatch(/^text\/event-stream/);
    expect(events).toEqual([
      { data: { articleArrived: { slug: 'first', title: 'FIRST', comments: [] } } },
      { data: { articleArrived: { slug: 'second', title: 'SECOND', comments: [{ body: 'Well put.' }] } } },
    ]);
  });

  it("keeps a subscription's stream open longer than a subgraph request's timeout", async () => {
    const started = Date.now();
    const { events } = await subscribe(`subscription { articleArrived(slugs: ["a", "b", "c"], everyMs: ${TIMEOUT_MS / 2}) { slug } }`);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1.5 * TIMEOUT_MS);
    expect(events).toEqual(['a', 'b', 'c'].map((slug) => ({ data: { articleArrived: { slug } } })));
  });

  it('serves a changed subgraph schema without a restart, and keeps the last good one while composition fails', async () => {
    const before = await post('{ latest { wordCount } }');
    expect(before.status).toBe(400);
    expect(before.body.errors?.[0]?.message).toMatch(/wordCount/);

    writeFileSync(wireSchemaFile, WIRE_V2);
    let after = before;
    for (let attempt = 0; attempt < 50 && after.status !== 200; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      after = await post('{ latest { wordCount } }');
    }
    expect(after.body).toEqual({ data: { latest: { wordCount: 42 } } });

    // A schema that does not compose is not served: the gateway keeps the last good supergraph, and says why.
    writeFileSync(wireSchemaFile, WIRE_V2.replace('type Article @key(fields: "slug") {', 'type Article @key(fields: "slug") {\n    comments: Int'));
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect((await post('{ latest { wordCount comments { body } } }')).body).toEqual({ data: { latest: { wordCount: 42, comments: [] } } });
    expect(gateway.output()).toMatch(/keeping the supergraph in service: the subgraphs do not compose/);
  });
});
