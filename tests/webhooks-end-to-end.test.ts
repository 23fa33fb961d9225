import path from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type ServerProcess, startServerProcess } from './support/cli.ts';
import { createThrowawayStore, type ThrowawayStore } from './support/store.ts';
import { startWebhookReceiver, type WebhookReceiver } from './support/webhook-receiver.ts';

const FIXTURES = path.join(import.meta.dirname, 'fixtures/documents/good');

let throwaway: ThrowawayStore;
let receiver: WebhookReceiver;
const servers: ServerProcess[] = [];
const env = () => ({
  DATABASE_URL: throwaway.databaseUrl,
  DEMO_CONTENT: '0',
  MAIL_SENDER: 'off',
  WEBHOOK_ALLOW_PRIVATE_ADDRESSES: '1',
  WEBHOOK_RETRY_BASE_MS: '50',
  WEBHOOK_POLL_MS: '50',
});

beforeAll(async () => {
  throwaway = await createThrowawayStore();
  receiver = await startWebhookReceiver();
});
afterAll(async () => {
  for (const server of servers) await server.stop();
  await receiver?.close();
  await throwaway?.drop();
});

// Three CLI runs and two servers started: a minute or more on a loaded machine.
describe('webhooks from the change feed, end to end', { timeout: 120_000 }, () => {
  it('tells an endpoint of every piece that `masthead import` publishes in another process, once, signed, with two servers running', async () => {
    // Failing the first attempt at every third message: retried with the same id.
    receiver.answer = ({ headers, seenBefore }) =>
      seenBefore === 0 && String(headers['webhook-id']).charCodeAt(6) % 3 === 0 ? { status: 500 } : { status: 204 };
    expect((await runCli(['migrate'], env())).code).toBe(0);
    const added = await runCli(['webhooks', 'add', '--url', receiver.url, '--events', 'article.published,issue.published'], env());
    expect(added.code).toBe(0);
    const secret = /^secret: (\S+)$/m.exec(added.stdout)?.[1] ?? '';
    servers.push(await startServerProcess(env()), await startServerProcess(env()));

    const imported = await runCli(['import', FIXTURES], env());
    expect(imported.code).toBe(0);
    expect(Number(/(\d+) new/.exec(imported.stdout)?.[1])).toBeGreaterThan(0);
    // Every piece the public can read now (an embargoed one waits for its time), and every issue that got its first piece.
    const server = servers[0] as ServerProcess;
    const visible = await fetch(`${server.url}/graphql?query=${encodeURIComponent('{ articles(first: 100) { totalCount edges { node { headline } } } }')}`, {
      headers: { accept: 'application/json' },
    });
    const { data } = (await visible.json()) as { data: { articles: { totalCount: number; edges: Array<{ node: { headline: string } }> } } };
    expect(data.articles.totalCount).toBeGreaterThan(0);
    await expect
      .poll(() => receiver.delivered().filter((d) => JSON.parse(d.body).type === 'article.published').length, { timeout: 20_000 })
      .toBe(data.articles.totalCount);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const delivered = receiver.delivered();
    const ids = delivered.map((d) => String(d.headers['webhook-id']));
    expect(new Set(ids).size).toBe(ids.length);
    for (const attempt of delivered) {
      const headers = {
        'webhook-id': String(attempt.headers['webhook-id']),
        'webhook-timestamp': String(attempt.headers['webhook-timestamp']),
        'webhook-signature': String(attempt.headers['webhook-signature']),
      };
      expect(new Webhook(secret).verify(attempt.body, headers)).toEqual(JSON.parse(attempt.body));
    }
    const headlines = delivered
      .map((d) => JSON.parse(d.body))
      .filter((e) => e.type === 'article.published')
      .map((e) => e.data.headline);
    expect(headlines.sort()).toEqual(data.articles.edges.map((edge) => edge.node.headline).sort());
    expect(delivered.some((d) => JSON.parse(d.body).type === 'issue.published')).toBe(true);
    // Retried ones carried the same id as their first, failed, attempt.
    const failedIds = receiver.attempts.filter((a) => a.status === 500).map((a) => String(a.headers['webhook-id']));
    for (const id of failedIds) expect(ids).toContain(id);

    const deliveries = await runCli(['webhooks', 'deliveries', '1', '--json'], env());
    const rows = JSON.parse(deliveries.stdout) as Array<{ status: string }>;
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((row) => row.status === 'delivered')).toBe(true);
  });
});
