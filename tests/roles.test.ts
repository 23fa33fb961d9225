import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newApiKey } from '../src/auth/api-keys.ts';
import { loadConfig } from '../src/config.ts';
import { insertApiKey, revokeApiKey } from '../src/store/api-key.repository.ts';
import { createTestApp, type TestApp } from './support/app.ts';
import { runCli, startServerProcess } from './support/cli.ts';
import { createThrowawayStore } from './support/store.ts';

let app: TestApp;
const secrets: Record<'editor' | 'admin' | 'revoked' | 'budgeted', string> = { editor: '', admin: '', revoked: '', budgeted: '' };
let subscriptionId = '';

async function keyFor(role: 'editor' | 'admin', costBudget: number | null = null): Promise<{ id: number; secret: string }> {
  const key = newApiKey();
  const id = await insertApiKey(app.store.db, { name: `${role} test`, role, hash: key.hash, prefix: key.prefix, costBudget });
  return { id, secret: key.secret };
}

beforeAll(async () => {
  app = await createTestApp({
    seed: { issues: 2, authors: 3, articles: 12 },
    config: { signUp: { ...loadConfig({}).signUp, perClient: { limit: 0, windowMs: 1 }, perEmail: { limit: 0, windowMs: 1 } } },
  });
  const { db } = app.store;
  const [draft, scheduled] = await db.selectFrom('articles').select(['id', 'slug']).orderBy('id').limit(2).execute();
  await db
    .updateTable('articles')
    .set({ status: 'draft' })
    .where('id', '=', draft?.id ?? 0)
    .execute();
  await db
    .updateTable('articles')
    .set({ published_at: '2099-01-01T00:00:00.000Z' })
    .where('id', '=', scheduled?.id ?? 0)
    .execute();
  await db
    .updateTable('articles')
    .set({ slug: 'the-draft' })
    .where('id', '=', draft?.id ?? 0)
    .execute();
  await db
    .updateTable('articles')
    .set({ slug: 'the-embargoed-piece' })
    .where('id', '=', scheduled?.id ?? 0)
    .execute();
  secrets.editor = (await keyFor('editor')).secret;
  secrets.admin = (await keyFor('admin')).secret;
  const revoked = await keyFor('admin');
  await revokeApiKey(db, revoked.id, new Date().toISOString());
  secrets.revoked = revoked.secret;
  secrets.budgeted = (await keyFor('editor', 50)).secret;
  const signUp = await app.graphql<{ subscribe: { subscription: { id: string } } }>(
    'mutation { subscribe(input: { email: "private@example.org", newsletter: "breakfast-in-red" }) { subscription { id } } }',
  );
  subscriptionId = signUp.data?.subscribe.subscription.id ?? '';
});
afterAll(async () => {
  await app?.close();
});

type Viewer = 'anonymous' | 'editor' | 'admin';

async function as(viewer: Viewer | 'revoked' | 'malformed', query: string, variables: Record<string, unknown> = {}) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (viewer === 'malformed') headers.authorization = 'Bearer not-a-key';
  else if (viewer !== 'anonymous') headers.authorization = `Bearer ${secrets[viewer]}`;
  const response = await app.fetch('/graphql', { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  return {
    status: response.status,
    body: (await response.json()) as { data?: Record<string, unknown> | null; errors?: Array<{ message: string; extensions?: { code?: string } }> },
  };
}

// Every sensitive field, what each role gets: 'value' (the data), 'null' (as if there were none)
// or 'forbidden' (a FORBIDDEN error).
const SENSITIVE: Array<{
  what: string;
  query: () => string;
  pick: (data: Record<string, unknown>) => unknown;
  expect: Record<Viewer, 'value' | 'null' | 'forbidden'>;
}> = [
  {
    what: 'a draft by slug (preview)',
    query: () => '{ article(slug: "the-draft") { headline } }',
    pick: (data) => data.article,
    expect: { anonymous: 'null', editor: 'value', admin: 'value' },
  },
  {
    what: 'an embargoed piece by slug (preview)',
    query: () => '{ article(slug: "the-embargoed-piece") { headline } }',
    pick: (data) => data.article,
    expect: { anonymous: 'null', editor: 'value', admin: 'value' },
  },
  {
    what: 'Article.status',
    query: () => '{ articles(first: 1) { edges { node { status } } } }',
    pick: (data) => (data.articles as { edges: Array<{ node: { status: string } }> } | null)?.edges[0]?.node.status,
    expect: { anonymous: 'forbidden', editor: 'value', admin: 'value' },
  },
  {
    what: 'Newsletter.subscriberCounts',
    query: () => '{ newsletters { slug subscriberCounts { pending active unsubscribed } } }',
    pick: (data) => (data.newsletters as Array<{ subscriberCounts: unknown }> | null)?.[0]?.subscriberCounts,
    expect: { anonymous: 'forbidden', editor: 'value', admin: 'value' },
  },
  {
    what: 'Query.subscriptions with e-mails',
    query: () => '{ subscriptions(newsletter: "breakfast-in-red") { totalCount edges { node { email status } } } }',
    pick: (data) => data.subscriptions,
    expect: { anonymous: 'forbidden', editor: 'forbidden', admin: 'value' },
  },
  {
    what: 'a sign-up by node id',
    query: () => `{ node(id: "${subscriptionId}") { ... on NewsletterSubscription { email } } }`,
    pick: (data) => data.node,
    expect: { anonymous: 'null', editor: 'null', admin: 'value' },
  },
];

describe('roles', () => {
  for (const field of SENSITIVE) {
    for (const viewer of ['anonymous', 'editor', 'admin'] as const) {
      it(`${viewer === 'anonymous' ? 'an anonymous reader' : `an ${viewer}`} gets ${field.expect[viewer]} for ${field.what}`, async () => {
        const { status, body } = await as(viewer, field.query());
        expect(status).toBe(200);
        const outcome = field.expect[viewer];
        if (outcome === 'forbidden') {
          expect(body.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
          expect(JSON.stringify(body)).not.toContain('private@example.org');
        } else {
          expect(body.errors).toBeUndefined();
          const value = field.pick(body.data ?? {});
          if (outcome === 'null') expect(value).toBeNull();
          else expect(value).toBeTruthy();
        }
      });
    }
  }

  it('shows admins the e-mails of sign-ups, and editors the counts', async () => {
    const admin = await as('admin', '{ subscriptions(newsletter: "breakfast-in-red", status: PENDING) { totalCount edges { node { email } } } }');
    expect(admin.body.data?.subscriptions).toEqual({ totalCount: 1, edges: [{ node: { email: 'private@example.org' } }] });
    const editor = await as('editor', '{ newsletters { slug subscriberCounts { pending active } } }');
    expect(editor.body.data?.newsletters).toContainEqual({ slug: 'breakfast-in-red', subscriberCounts: { pending: 1, active: 0 } });
  });

  it('answers a draft and a slug that does not exist alike to anonymous readers', async () => {
    const draft = await as('anonymous', '{ article(slug: "the-draft") { headline } }');
    const missing = await as('anonymous', '{ article(slug: "no-such-piece") { headline } }');
    expect(draft).toEqual(missing);
  });

  it.each([['revoked' as const], ['malformed' as const]])('refuses a %s key with 401, telling nothing more', async (viewer) => {
    const { status, body } = await as(viewer, '{ latestIssue { number } }');
    expect(status).toBe(401);
    expect(body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(body.data).toBeUndefined();
  });

  it("charges an API key its queries' cost against its budget, then answers 429", async () => {
    const query = '{ issues(first: 5) { edges { node { number } } } }'; // cost 11
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${secrets.budgeted}` };
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const response = await app.fetch('/graphql', { method: 'POST', headers, body: JSON.stringify({ query }) });
      statuses.push(response.status);
      if (response.status === 429) {
        const body = (await response.json()) as { errors: Array<{ extensions: { code: string } }> };
        expect(body.errors[0]?.extensions.code).toBe('COST_BUDGET_EXCEEDED');
        expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
      }
    }
    expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
  });
});

describe('masthead keys', () => {
  it('creates a key shown once, lists it without its secret, and revokes it at once', async () => {
    const store = await createThrowawayStore();
    try {
      const env = { DATABASE_URL: store.databaseUrl };
      const created = await runCli(['keys', 'create', '--role', 'editor', '--name', 'Desk'], env);
      expect(created.code).toBe(0);
      const secret = created.stdout.trim();
      expect(secret).toMatch(/^mh_[\w-]{43}$/);
      const listed = await runCli(['keys', 'list', '--json'], env);
      expect(listed.stdout).not.toContain(secret);
      expect(JSON.parse(listed.stdout)).toEqual([
        expect.objectContaining({ id: 1, name: 'Desk', role: 'editor', prefix: secret.slice(0, 10), revokedAt: null }),
      ]);

      const server = await startServerProcess({ ...env, DEMO_CONTENT: '0' });
      try {
        const ask = () =>
          fetch(`${server.url}/graphql`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` },
            body: JSON.stringify({ query: '{ newsletters { subscriberCounts { active } } }' }),
          });
        expect((await ask()).status).toBe(200);
        expect((await runCli(['keys', 'revoke', '1'], env)).code).toBe(0);
        expect((await ask()).status).toBe(401);
      } finally {
        await server.stop();
      }
      expect((await runCli(['keys', 'revoke', '1'], env)).code).toBe(1);
    } finally {
      await store.drop();
    }
  });

  it.each([
    [['keys', 'create'], /--role must be editor or admin/],
    [['keys', 'create', '--role', 'root'], /--role must be editor or admin, got "root"/],
    [['keys', 'create', '--role', 'admin', '--cost-budget', 'lots'], /--cost-budget must be a whole number/],
    [['keys', 'revoke'], /revoke needs one key id/],
    [['keys', 'revoke', 'x'], /--id must be a whole number/],
    [['keys', 'rotate'], /unknown action "rotate"/],
  ])('refuses %j with status 2', async (args, message) => {
    const result = await runCli(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });
});
