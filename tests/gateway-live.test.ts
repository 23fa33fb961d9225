import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCommunitySubgraph } from '../examples/community-subgraph.ts';
import { runCli, type ServerProcess, startListeningProcess, startServerProcess } from './support/cli.ts';

// Masthead's live updates through `masthead gateway`, with real processes: a `masthead serve` on
// its own SQLite file, the community example subgraph (comments by article slug), and the
// gateway composing both. A change committed to Masthead's store reaches a client subscribed at
// the gateway, with the other subgraph's comments joined into the event.

let dir: string;
let file: string;
let masthead: ServerProcess;
let community: Server;
let gateway: ServerProcess;
let slug: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'masthead-gateway-live-'));
  file = path.join(dir, 'masthead.sqlite');
  const env = { DATABASE_URL: `sqlite:${file}`, MAIL_SENDER: 'off', WEBHOOK_SENDER: 'off' };
  const seeded = await runCli(['seed', '--issues', '2', '--authors', '3', '--articles', '10'], env);
  expect(seeded.code, seeded.stderr).toBe(0);
  const db = new Database(file, { readonly: true });
  slug = (db.prepare("select slug from articles where status = 'published' order by id limit 1").get() as { slug: string }).slug;
  db.close();
  masthead = await startServerProcess(env);
  community = createServer(createCommunitySubgraph({ comments: [{ articleSlug: slug, body: 'Well put.' }], members: [] }));
  await new Promise<void>((resolve) => community.listen(0, '127.0.0.1', resolve));
  const communityUrl = `http://127.0.0.1:${(community.address() as AddressInfo).port}/graphql`;
  gateway = await startListeningProcess(['gateway', '--subgraph', `masthead=${masthead.url}/graphql`, '--subgraph', `community=${communityUrl}`]);
}, 120_000);

afterAll(async () => {
  await gateway?.stop();
  await masthead?.stop();
  if (community) {
    community.closeAllConnections();
    await new Promise((resolve) => community.close(resolve));
  }
  rmSync(dir, { recursive: true, force: true });
});

/** Opens a GraphQL-over-SSE stream at the gateway and yields the `data` of each `next` event. */
async function* events(query: string, signal: AbortSignal): AsyncGenerator<Record<string, unknown>> {
  const response = await fetch(`${gateway.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({ query }),
    signal,
  });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const decoder = new TextDecoder();
  let buffered = '';
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffered += decoder.decode(chunk, { stream: true });
    let end = buffered.indexOf('\n\n');
    while (end !== -1) {
      const block = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (/^event: next$/m.test(block) && data) yield JSON.parse(data) as Record<string, unknown>;
      end = buffered.indexOf('\n\n');
    }
  }
}

describe("Masthead's subscriptions through the gateway", () => {
  it("carry a change committed to Masthead's store to a gateway client, with the community subgraph's comments joined", async () => {
    const controller = new AbortController();
    const timeout = setTimeout(() => controller.abort(), 30_000);
    try {
      const stream = events('subscription { articleChanged { kind article { slug headline comments { body } } } }', controller.signal);
      const first = stream.next();
      // The stream is open once the gateway has subscribed upstream: give it a moment, then commit.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const db = new Database(file);
      db.prepare("update articles set headline = headline || ' (corrected)' where slug = ?").run(slug);
      db.close();
      const { value } = await first;
      expect(value).toEqual({
        data: {
          articleChanged: {
            kind: 'UPDATED',
            article: { slug, headline: expect.stringMatching(/ \(corrected\)$/), comments: [{ body: 'Well put.' }] },
          },
        },
      });
    } finally {
      clearTimeout(timeout);
      controller.abort();
    }
  }, 60_000);
});
