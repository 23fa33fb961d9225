import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newApiKey } from '../src/auth/api-keys.ts';
import { loadConfig } from '../src/config.ts';
import { insertApiKey } from '../src/store/api-key.repository.ts';
import { createTestApp, type TestApp } from './support/app.ts';
import { runCli } from './support/cli.ts';
import { createThrowawayStore, type ThrowawayStore } from './support/store.ts';

// Each case is a CLI run (a process of its own, a second or more on a loaded machine).
describe('masthead webhooks, the command', { timeout: 180_000 }, () => {
  let store: ThrowawayStore;
  const env = (extra: Record<string, string> = {}) => ({ DATABASE_URL: store.databaseUrl, ...extra });
  beforeAll(async () => {
    store = await createThrowawayStore();
  });
  afterAll(async () => {
    await store.drop();
  });

  it('adds an endpoint and prints its id and a whsec_ secret once, then lists, switches on and removes it', async () => {
    const added = await runCli(
      ['webhooks', 'add', '--url', 'http://127.0.0.1:9/hooks', '--events', 'article.published,cache.purge', '--name', 'site build'],
      env({ WEBHOOK_ALLOW_PRIVATE_ADDRESSES: '1' }),
    );
    expect(added.stderr).toMatch(/added webhook endpoint \d+ \(site build\)/);
    expect(added.code).toBe(0);
    const id = /^id: (\d+)$/m.exec(added.stdout)?.[1];
    const secret = /^secret: (whsec_\S+)$/m.exec(added.stdout)?.[1] ?? '';
    expect(id).toBeDefined();
    // 32 random bytes, base64: what the Standard Webhooks libraries take.
    expect(Buffer.from(secret.slice('whsec_'.length), 'base64')).toHaveLength(32);

    const list = await runCli(['webhooks', 'list', '--json'], env());
    expect(list.code).toBe(0);
    const endpoints = JSON.parse(list.stdout) as Array<Record<string, unknown>>;
    expect(endpoints).toEqual([
      expect.objectContaining({
        id: Number(id),
        name: 'site build',
        url: 'http://127.0.0.1:9/hooks',
        eventTypes: ['article.published', 'cache.purge'],
        enabled: true,
      }),
    ]);
    expect(list.stdout).not.toContain(secret);
    expect((await runCli(['webhooks', 'list'], env())).stdout).not.toContain('whsec_');

    const deliveries = await runCli(['webhooks', 'deliveries', String(id)], env());
    expect(deliveries.code).toBe(0);
    expect(deliveries.stdout).toMatch(/no deliveries yet/);

    const enabled = await runCli(['webhooks', 'enable', String(id)], env());
    expect(enabled.stdout).toMatch(`webhook endpoint ${id} is on`);
    const removed = await runCli(['webhooks', 'remove', String(id)], env());
    expect(removed.code).toBe(0);
    const again = await runCli(['webhooks', 'remove', String(id)], env());
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(`there is no endpoint ${id}`);
  });

  it('refuses a loopback or private receiver unless the setting allows it, and says which setting', async () => {
    for (const url of [
      'http://127.0.0.1:8080/',
      'http://localhost/hook',
      'http://10.1.2.3/',
      'http://169.254.169.254/latest',
      'http://[::1]/',
      'http://[::ffff:192.168.0.1]/',
    ]) {
      const refused = await runCli(['webhooks', 'add', '--url', url], env());
      expect(refused.code, url).toBe(2);
      expect(refused.stderr, url).toMatch(/(loopback|private|linkLocal) address: .*WEBHOOK_ALLOW_PRIVATE_ADDRESSES=1/);
    }
    expect(JSON.parse((await runCli(['webhooks', 'list', '--json'], env())).stdout)).toEqual([]);
  });

  it('refuses bad URLs, unknown events and bad flags with status 2 and a clear message', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['webhooks', 'add'], /add needs --url URL/],
      [['webhooks', 'add', '--url', 'not a url'], /--url: not a URL/],
      [['webhooks', 'add', '--url', 'ftp://example.org/'], /must be http:\/\/ or https:\/\//],
      [['webhooks', 'add', '--url', 'https://user:pw@example.org/'], /must not hold a user or password/],
      [['webhooks', 'add', '--url', 'http://127.0.0.1/', '--events', 'article.deleted'], /unknown event type "article.deleted"/],
      [['webhooks', 'add', '--url', 'http://127.0.0.1/', '--events', ','], /name at least one event type/],
      [['webhooks', 'add', '--url', 'http://127.0.0.1/', '--colour', 'red'], /Unknown option '--colour'/],
      [['webhooks', 'remove'], /remove needs one endpoint id/],
      [['webhooks', 'deliveries', 'x'], /--id must be a whole number/],
      [['webhooks', 'purge'], /unknown action "purge"/],
    ];
    for (const [args, message] of cases) {
      const result = await runCli(args, env({ WEBHOOK_ALLOW_PRIVATE_ADDRESSES: '1' }));
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toMatch(message);
    }
    const badSetting = await runCli(['webhooks', 'list'], env({ WEBHOOK_MAX_ATTEMPTS: 'many' }));
    expect(badSetting.code).toBe(2);
    expect(badSetting.stderr).toMatch(/WEBHOOK_MAX_ATTEMPTS must be a whole number/);
    const unknown = await runCli(['webhooks', 'deliveries', '999'], env());
    expect(unknown.code).toBe(1);
  });
});

describe('webhook endpoints through GraphQL', () => {
  let app: TestApp;
  let admin = '';
  let editor = '';
  const asKey = async (secret: string, query: string, variables: Record<string, unknown> = {}) => {
    const response = await app.fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: `Bearer ${secret}` },
      body: JSON.stringify({ query, variables }),
    });
    // biome-ignore lint/suspicious/noExplicitAny: the answers are read as the tests expect them, and checked field by field.
    return { status: response.status, ...((await response.json()) as { data?: Record<string, any>; errors?: Array<{ extensions?: { code?: string } }> }) };
  };
  beforeAll(async () => {
    app = await createTestApp({ config: { webhooks: { ...loadConfig({}).webhooks, allowPrivateAddresses: false } } });
    for (const role of ['admin', 'editor'] as const) {
      const key = newApiKey();
      await insertApiKey(app.store.db, { name: role, role, hash: key.hash, prefix: key.prefix, costBudget: null });
      if (role === 'admin') admin = key.secret;
      else editor = key.secret;
    }
  });
  afterAll(async () => {
    await app.close();
  });

  const ADD = `mutation Add($input: AddWebhookEndpointInput!) {
    addWebhookEndpoint(input: $input) { endpoint { id url eventTypes enabled } secret userErrors { field code message } }
  }`;

  it('lets an admin add, list, switch on and remove endpoints', async () => {
    const added = await asKey(admin, ADD, { input: { url: 'https://93.184.215.14/hooks', events: ['article.withdrawn'], name: 'indexer' } });
    expect(added.data?.addWebhookEndpoint.userErrors).toEqual([]);
    expect(added.data?.addWebhookEndpoint.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const id = added.data?.addWebhookEndpoint.endpoint.id as string;
    const listed = await asKey(admin, '{ webhookEndpoints { id name url eventTypes enabled failureRun deliveries { id } } }');
    expect(listed.data?.webhookEndpoints).toEqual([
      { id, name: 'indexer', url: 'https://93.184.215.14/hooks', eventTypes: ['article.withdrawn'], enabled: true, failureRun: 0, deliveries: [] },
    ]);
    const enabled = await asKey(admin, 'mutation($id: ID!) { enableWebhookEndpoint(id: $id) { endpoint { enabled } userErrors { code } } }', { id });
    expect(enabled.data?.enableWebhookEndpoint).toEqual({ endpoint: { enabled: true }, userErrors: [] });
    const removed = await asKey(admin, 'mutation($id: ID!) { removeWebhookEndpoint(id: $id) { endpoint { id } userErrors { code } } }', { id });
    expect(removed.data?.removeWebhookEndpoint).toEqual({ endpoint: { id }, userErrors: [] });
    const gone = await asKey(admin, 'mutation($id: ID!) { removeWebhookEndpoint(id: $id) { endpoint { id } userErrors { code } } }', { id: 'nope' });
    expect(gone.data?.removeWebhookEndpoint).toEqual({ endpoint: null, userErrors: [{ code: 'WEBHOOK_ENDPOINT_NOT_FOUND' }] });
  });

  it('answers mistakes as userErrors with stable codes, and a private receiver as URL_REFUSED naming the setting', async () => {
    const bad = await asKey(admin, ADD, { input: { url: 'gopher://x', events: ['article.exploded'] } });
    expect(bad.status).toBe(200);
    expect(bad.data?.addWebhookEndpoint.endpoint).toBeNull();
    expect(bad.data?.addWebhookEndpoint.secret).toBeNull();
    expect(bad.data?.addWebhookEndpoint.userErrors.map((e: { code: string }) => e.code).sort()).toEqual(['EVENTS_INVALID', 'URL_INVALID']);
    const refused = await asKey(admin, ADD, { input: { url: 'http://127.0.0.1:4000/' } });
    expect(refused.data?.addWebhookEndpoint.userErrors).toEqual([
      { field: ['input', 'url'], code: 'URL_REFUSED', message: expect.stringMatching(/loopback address.*WEBHOOK_ALLOW_PRIVATE_ADDRESSES=1/) },
    ]);
  });

  it('refuses editors and the public', async () => {
    const asEditor = await asKey(editor, '{ webhookEndpoints { id } }');
    expect(asEditor.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const asPublic = await app.graphql(ADD, { input: { url: 'https://93.184.215.14/' } });
    expect(asPublic.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});
