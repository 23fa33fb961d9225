import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerProcess, startServerProcess } from './support/cli.ts';
import { createThrowawayStore, type ThrowawayStore } from './support/store.ts';

// PUBLIC_URL defaults to http://HOST:PORT. With PORT=0 the system picks the port, and links in
// e-mails must name the one it picked: a link to port 0 opens nothing.

let store: ThrowawayStore;
let mailDir: string;

beforeAll(async () => {
  store = await createThrowawayStore();
  mailDir = mkdtempSync(path.join(tmpdir(), 'masthead-public-url-'));
});
afterAll(async () => {
  await store?.drop();
  rmSync(mailDir, { recursive: true, force: true });
});

async function subscribe(server: ServerProcess, email: string): Promise<void> {
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      query: 'mutation S($input: SubscribeInput!) { subscribe(input: $input) { userErrors { code } } }',
      variables: { input: { email, newsletter: 'breakfast-in-red' } },
    }),
  });
  expect(((await response.json()) as { data: unknown }).data).toEqual({ subscribe: { userErrors: [] } });
}

/** The text of the first message written to the mail folder, once there is one. */
async function firstMail(): Promise<string> {
  for (let waited = 0; waited < 15_000; waited += 50) {
    const [name] = readdirSync(mailDir).filter((file) => file.endsWith('.eml'));
    if (name) return (await simpleParser(readFileSync(path.join(mailDir, name)))).text ?? '';
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('no message was written within 15 s');
}

describe('the default PUBLIC_URL with PORT=0', () => {
  it('names the port the server bound, in the log and in every link of an e-mail', async () => {
    // startServerProcess sets PORT=0; PUBLIC_URL is left unset.
    const server = await startServerProcess({ DATABASE_URL: store.databaseUrl, DEMO_CONTENT: '1', MAIL_DIR: mailDir, MAIL_POLL_MS: '50' });
    try {
      const bound = new URL(server.url);
      expect(bound.port).not.toBe('0');
      await subscribe(server, 'port.zero@example.org');
      const text = await firstMail();
      expect(text).toContain(`${server.url}/subscriptions/confirm?token=`);
      expect(text).toContain(`${server.url}/subscriptions/unsubscribe?token=`);
      expect(text).not.toContain(`${bound.hostname}:0/`);
      expect(server.output()).toContain(`links start ${server.url}`);
      // The link opens the confirmation page on this very server.
      const link = new RegExp(`${server.url.replace(/[.:/]/g, '\\$&')}(/subscriptions/confirm\\?token=[\\w-]+)`).exec(text)?.[1] ?? '';
      expect((await fetch(`${server.url}${link}`)).status).toBe(200);
    } finally {
      await server.stop();
    }
  });
});
