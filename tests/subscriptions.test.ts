import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeEmail } from '../src/email.ts';
import { createTestApp, type TestApp } from './support/app.ts';

let app: TestApp;

beforeAll(async () => {
  app = await createTestApp({ seed: { issues: 1, authors: 1, articles: 1 } });
});
afterAll(async () => {
  await app?.close();
});

interface Payload {
  subscription: { id: string; email: string; status: string; createdAt: string; confirmedAt: string | null; newsletter: { slug: string } } | null;
  userErrors: Array<{ field: string[] | null; code: string; message: string }>;
}

const SUBSCRIBE = `mutation S($email: String!, $newsletter: String!) {
  subscribe(input: { email: $email, newsletter: $newsletter }) {
    subscription { id email status createdAt confirmedAt newsletter { slug } }
    userErrors { field code message }
  }
}`;

async function subscribe(email: string, newsletter = 'breakfast-in-red'): Promise<Payload> {
  const response = await app.graphql<{ subscribe: Payload }>(SUBSCRIBE, { email, newsletter });
  expect(response.status).toBe(200);
  expect(response.errors).toBeUndefined();
  return response.data?.subscribe as Payload;
}

async function subscriptionRows(email: string) {
  return app.store.db.selectFrom('subscriptions').selectAll().where('email', '=', email).execute();
}

describe('signing up to a newsletter', () => {
  it('creates a PENDING subscription', async () => {
    const payload = await subscribe('reader@example.org');
    expect(payload.userErrors).toEqual([]);
    expect(payload.subscription).toMatchObject({
      email: 'reader@example.org',
      status: 'PENDING',
      confirmedAt: null,
      newsletter: { slug: 'breakfast-in-red' },
    });
    expect(Date.parse(payload.subscription?.createdAt ?? '')).not.toBeNaN();
  });

  it('is idempotent per e-mail and newsletter, comparing the domain without case', async () => {
    const first = await subscribe('  Same.Person@Example.COM ');
    const again = await subscribe('Same.Person@example.com');
    expect(again.subscription?.id).toBe(first.subscription?.id);
    expect(first.subscription?.email).toBe('Same.Person@example.com');
    expect(await subscriptionRows('Same.Person@example.com')).toHaveLength(1);
    const otherLocalCase = await subscribe('same.person@example.com');
    expect(otherLocalCase.subscription?.id).not.toBe(first.subscription?.id);
    const otherNewsletter = await subscribe('Same.Person@example.com', 'weekend-reads');
    expect(otherNewsletter.subscription?.id).not.toBe(first.subscription?.id);
  });

  it('makes one subscription from many concurrent sign-ups', async () => {
    const results = await Promise.all(Array.from({ length: 25 }, () => subscribe('racer@example.net')));
    expect(new Set(results.map((r) => r.subscription?.id)).size).toBe(1);
    expect(await subscriptionRows('racer@example.net')).toHaveLength(1);
  });

  it.each([
    ['', 'EMAIL_INVALID'],
    ['not-an-email', 'EMAIL_INVALID'],
    ['@example.org', 'EMAIL_INVALID'],
    ['reader@', 'EMAIL_INVALID'],
    ['reader@localhost', 'EMAIL_INVALID'],
    ['two@@example.org', 'EMAIL_INVALID'],
    ['a b@example.org', 'EMAIL_INVALID'],
    ['reader@exa mple.org', 'EMAIL_INVALID'],
    ['<script>@example.org', 'EMAIL_INVALID'],
    ['reader@example.org\nBcc: victim@example.org', 'EMAIL_INVALID'],
    [`${'a'.repeat(65)}@example.org`, 'EMAIL_TOO_LONG'],
    [`reader@${'a'.repeat(250)}.org`, 'EMAIL_TOO_LONG'],
  ])('refuses %j with %s and stores nothing', async (email, code) => {
    const before = await app.store.db.selectFrom('subscriptions').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const payload = await subscribe(email);
    expect(payload.subscription).toBeNull();
    expect(payload.userErrors).toEqual([expect.objectContaining({ field: ['input', 'email'], code })]);
    const after = await app.store.db.selectFrom('subscriptions').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(Number(before.n));
  });

  it('refuses an unknown newsletter, and reports every mistake at once', async () => {
    const unknown = await subscribe('reader@example.org', 'no-such-letter');
    expect(unknown.userErrors).toEqual([
      expect.objectContaining({ field: ['input', 'newsletter'], code: 'NEWSLETTER_NOT_FOUND' }),
    ]);
    const both = await subscribe('nope', 'x'.repeat(10_000));
    expect(both.userErrors.map((e) => e.code)).toEqual(['EMAIL_INVALID', 'NEWSLETTER_NOT_FOUND']);
  });

  it('accepts an internationalised domain in its ASCII form', async () => {
    const payload = await subscribe('leser@bücher.example');
    expect(payload.subscription?.email).toBe('leser@xn--bcher-kva.example');
  });

  it('answers a malformed mutation with a 4xx and a GraphQL error, not a 500', async () => {
    const missing = await app.graphql('mutation { subscribe(input: { email: "a@b.org" }) { userErrors { code } } }');
    expect(missing.status).toBe(400);
    expect(missing.errors?.[0]?.message).toMatch(/newsletter/);
    const wrongType = await app.graphql(SUBSCRIBE, { email: 42, newsletter: ['x'] });
    expect(wrongType.status).toBe(400);
  });
});

describe('confirming and unsubscribing', () => {
  it.each(['confirmSubscription', 'unsubscribe'])('%s answers an unknown token with TOKEN_INVALID', async (field) => {
    for (const token of ['nonsense', '', 'x'.repeat(5000)]) {
      const response = await app.graphql<Record<string, Payload>>(
        `mutation M($token: String!) { ${field}(token: $token) { subscription { id } userErrors { field code message } } }`,
        { token },
      );
      expect(response.errors).toBeUndefined();
      expect(response.data?.[field]).toEqual({
        subscription: null,
        userErrors: [{ field: ['token'], code: 'TOKEN_INVALID', message: expect.any(String) }],
      });
    }
  });
});

describe('privacy of sign-ups', () => {
  it('never shows a subscription, or its e-mail, to a public query', async () => {
    const payload = await subscribe('private@example.org');
    const id = payload.subscription?.id;
    const response = await app.graphql<{ node: unknown }>('query N($id: ID!) { node(id: $id) { id ... on NewsletterSubscription { email } } }', { id });
    expect(response.errors).toBeUndefined();
    expect(response.data?.node).toBeNull();
    const schema = await app.graphql<{ __schema: { queryType: { fields: { name: string; type: unknown }[] } } }>(
      '{ __schema { queryType { fields { name } } } }',
    );
    const names = schema.data?.__schema.queryType.fields.map((f) => f.name) ?? [];
    expect(names.some((name) => /subscription|email/i.test(name))).toBe(false);
  });
});

describe('normalising e-mail addresses', () => {
  it.each([
    [' Reader@Example.ORG ', 'Reader@example.org'],
    ['first.last+tag@sub.example.co.uk', 'first.last+tag@sub.example.co.uk'],
    ["o'brien@example.ie", "o'brien@example.ie"],
  ])('%j becomes %j', (raw, email) => {
    expect(normalizeEmail(raw)).toEqual({ email });
  });
});
