import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Config, loadConfig } from '../src/config.ts';
import { normalizeEmail } from '../src/email.ts';
import type { MailMessage } from '../src/mail/messages.ts';
import { OutboxSender } from '../src/mail/outbox-sender.ts';
import type { MailTransport } from '../src/mail/transport.ts';
import { createTestApp, silentLogger, type TestApp } from './support/app.ts';

/** Keeps what the sender sends; throws the queued failures first. */
class CapturingTransport implements MailTransport {
  readonly description = 'the test';
  readonly sent: MailMessage[] = [];
  readonly failures: Error[] = [];
  async send(message: MailMessage) {
    const failure = this.failures.shift();
    if (failure) throw failure;
    this.sent.push(message);
    return { messageId: `<${this.sent.length}@test>` };
  }
  close() {}
}

const NO_LIMITS = { limit: 0, windowMs: 60_000 };

let app: TestApp;
let transport: CapturingTransport;
let sender: OutboxSender;

function senderFor(testApp: TestApp, config: Partial<Config['mail']> = {}) {
  const mail = { ...testApp.config.mail, retryBaseMs: 10, ...config };
  return new OutboxSender(testApp.store, transport, { ...testApp.config, mail }, silentLogger);
}

beforeAll(async () => {
  app = await createTestApp({
    seed: { issues: 1, authors: 1, articles: 1 },
    config: { signUp: { ...loadConfig({}).signUp, perClient: NO_LIMITS, perEmail: NO_LIMITS } },
  });
});
afterAll(async () => {
  await app?.close();
});
beforeEach(() => {
  transport = new CapturingTransport();
  sender = senderFor(app);
});

interface Payload {
  subscription: { id: string; email: string; status: string; createdAt: string; confirmedAt: string | null; newsletter: { slug: string } } | null;
  userErrors: Array<{ field: string[] | null; code: string; message: string }>;
}

const SUBSCRIBE = `mutation S($input: SubscribeInput!) {
  subscribe(input: $input) {
    subscription { id email status createdAt confirmedAt newsletter { slug } }
    userErrors { field code message }
  }
}`;

async function subscribe(email: string, newsletter = 'breakfast-in-red', extra: Record<string, unknown> = {}, on = app): Promise<Payload> {
  const response = await on.graphql<{ subscribe: Payload }>(SUBSCRIBE, { input: { email, newsletter, ...extra } });
  expect(response.status).toBe(200);
  expect(response.errors).toBeUndefined();
  return response.data?.subscribe as Payload;
}

async function tokenMutation(field: 'confirmSubscription' | 'unsubscribe', token: string): Promise<Payload> {
  const response = await app.graphql<Record<string, Payload>>(
    `mutation M($token: String!) { ${field}(token: $token) { subscription { id email status confirmedAt newsletter { slug } } userErrors { field code message } } }`,
    { token },
  );
  expect(response.errors).toBeUndefined();
  return response.data?.[field] as Payload;
}

function tokenIn(url: string): string {
  return new URL(url).searchParams.get('token') ?? '';
}

/** The confirm and unsubscribe tokens of the last message sent to `email`. */
function lastMail(email: string) {
  const message = transport.sent.findLast((m) => m.to === email);
  if (!message) throw new Error(`no mail was sent to ${email}`);
  const confirmUrl = /https?:\/\/\S+\/subscriptions\/confirm\?token=\S+/.exec(message.text)?.[0];
  const unsubscribeUrl = /^<(.+)>$/.exec(message.headers['List-Unsubscribe'] ?? '')?.[1] ?? '';
  return { message, confirm: confirmUrl ? tokenIn(confirmUrl) : null, unsubscribe: tokenIn(unsubscribeUrl), unsubscribeUrl };
}

async function row(email: string, newsletter = 'breakfast-in-red') {
  return app.store.db
    .selectFrom('subscriptions')
    .innerJoin('newsletters', 'newsletters.id', 'subscriptions.newsletter_id')
    .selectAll('subscriptions')
    .where('email', '=', email)
    .where('newsletters.slug', '=', newsletter)
    .executeTakeFirst();
}

async function count(table: 'subscriptions' | 'outbox' | 'consents' | 'subscription_tokens'): Promise<number> {
  const result = await app.store.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(result.n);
}

/** Signs up and confirms, returning the tokens of the confirmation message. */
async function activeReader(email: string) {
  await subscribe(email);
  await sender.deliverDue();
  const mail = lastMail(email);
  expect((await tokenMutation('confirmSubscription', mail.confirm ?? '')).subscription?.status).toBe('ACTIVE');
  return mail;
}

describe('signing up to a newsletter', () => {
  it('records a PENDING sign-up with its consent and queues one confirmation e-mail, in one transaction', async () => {
    const payload = await subscribe('reader@example.org', 'breakfast-in-red', { source: 'article-footer', consentVersion: '2026-11' });
    expect(payload.userErrors).toEqual([]);
    expect(payload.subscription).toMatchObject({
      email: 'reader@example.org',
      status: 'PENDING',
      confirmedAt: null,
      newsletter: { slug: 'breakfast-in-red' },
    });
    const stored = await row('reader@example.org');
    expect(stored?.status).toBe('pending');
    const consent = await app.store.db
      .selectFrom('consents')
      .selectAll()
      .where('subscription_id', '=', stored?.id ?? 0)
      .execute();
    expect(consent).toEqual([expect.objectContaining({ source: 'article-footer', wording_version: '2026-11' })]);
    const queued = await app.store.db
      .selectFrom('outbox')
      .selectAll()
      .where('subscription_id', '=', stored?.id ?? 0)
      .execute();
    expect(queued).toEqual([expect.objectContaining({ kind: 'confirm', status: 'pending' })]);
  });

  it('signs a new address up with one read and a transaction of three statements (two on PostgreSQL)', async () => {
    // The newsletter's read, then BEGIN, the sign-up's upsert, the consent and the message
    // (one statement on PostgreSQL), COMMIT: what a sign-up costs is mostly its statements.
    const statements = await app.statementsFor(() => subscribe('counted@example.org'));
    expect(statements).toBe(app.store.dialect === 'postgres' ? 5 : 6);
  });

  it('records the default source and consent wording when the form names none', async () => {
    await subscribe('defaults@example.org');
    const stored = await row('defaults@example.org');
    const consent = await app.store.db
      .selectFrom('consents')
      .selectAll()
      .where('subscription_id', '=', stored?.id ?? 0)
      .executeTakeFirst();
    expect(consent).toMatchObject({ source: 'api', wording_version: app.config.signUp.consentVersion });
  });

  it('answers the same whether the address is new, pending, active or unsubscribed', async () => {
    const shape = (payload: Payload) => ({ ...payload, subscription: { ...payload.subscription, id: 'ID', createdAt: 'T' } });
    const fresh = await subscribe('fresh@example.org');
    const pending = await subscribe('fresh@example.org');
    const { unsubscribe } = await activeReader('was-active@example.org');
    const active = await subscribe('was-active@example.org');
    await tokenMutation('unsubscribe', unsubscribe);
    const unsubscribed = await subscribe('was-active@example.org');
    const expected = shape({ ...fresh, subscription: { ...fresh.subscription, email: 'was-active@example.org' } as Payload['subscription'] });
    expect(shape(active)).toEqual(expected);
    expect(shape(unsubscribed)).toEqual(expected);
    expect(pending).toEqual({ ...fresh, subscription: { ...fresh.subscription, createdAt: pending.subscription?.createdAt } });
  });

  it('tells an active reader by e-mail, not in the response, that they are subscribed already', async () => {
    await activeReader('loyal@example.org');
    await subscribe('loyal@example.org');
    await sender.deliverDue();
    const { message, confirm } = lastMail('loyal@example.org');
    expect(message.subject).toMatch(/already subscribed/);
    expect(confirm).toBeNull();
    expect((await row('loyal@example.org'))?.status).toBe('active');
  });

  it('is idempotent per e-mail and newsletter, comparing the domain without case', async () => {
    const first = await subscribe('  Same.Person@Example.COM ');
    const again = await subscribe('Same.Person@example.com');
    expect(again.subscription?.id).toBe(first.subscription?.id);
    expect(first.subscription?.email).toBe('Same.Person@example.com');
    const otherLocalCase = await subscribe('same.person@example.com');
    expect(otherLocalCase.subscription?.id).not.toBe(first.subscription?.id);
    const otherNewsletter = await subscribe('Same.Person@example.com', 'weekend-reads');
    expect(otherNewsletter.subscription?.id).not.toBe(first.subscription?.id);
    const rows = await app.store.db.selectFrom('subscriptions').select('id').where('email', '=', 'Same.Person@example.com').execute();
    expect(rows).toHaveLength(2);
  });

  it('makes one subscription and queues one message from many concurrent sign-ups', async () => {
    const results = await Promise.all(Array.from({ length: 25 }, () => subscribe('racer@example.net')));
    expect(new Set(results.map((r) => r.subscription?.id)).size).toBe(1);
    const stored = await row('racer@example.net');
    const queued = await app.store.db
      .selectFrom('outbox')
      .select('id')
      .where('subscription_id', '=', stored?.id ?? 0)
      .execute();
    expect(queued).toHaveLength(1);
    const consents = await app.store.db
      .selectFrom('consents')
      .select('id')
      .where('subscription_id', '=', stored?.id ?? 0)
      .execute();
    expect(consents).toHaveLength(25);
  });

  it('answers a bot that fills the honeypot like anyone else, and records and sends nothing', async () => {
    const before = await Promise.all([count('subscriptions'), count('outbox'), count('consents')]);
    const bot = await subscribe('bot@example.org', 'breakfast-in-red', { website: 'http://spam.example' });
    expect(bot.userErrors).toEqual([]);
    expect(bot.subscription).toMatchObject({ status: 'PENDING', email: 'bot@example.org' });
    expect(await Promise.all([count('subscriptions'), count('outbox'), count('consents')])).toEqual(before);
    expect(await subscribe('person@example.org', 'breakfast-in-red', { website: '   ' })).toMatchObject({ userErrors: [] });
    expect(await row('person@example.org')).toBeDefined();
  });

  it.each([
    ['an empty address', 'EMAIL_INVALID', ''],
    ['no @', 'EMAIL_INVALID', 'not-an-email'],
    ['no local part', 'EMAIL_INVALID', '@example.org'],
    ['no domain', 'EMAIL_INVALID', 'reader@'],
    ['a domain without a dot', 'EMAIL_INVALID', 'reader@localhost'],
    ['two @', 'EMAIL_INVALID', 'two@@example.org'],
    ['a space in the local part', 'EMAIL_INVALID', 'a b@example.org'],
    ['a space in the domain', 'EMAIL_INVALID', 'reader@exa mple.org'],
    ['markup', 'EMAIL_INVALID', '<script>@example.org'],
    ['SQL', 'EMAIL_INVALID', "x'; drop table subscriptions; --@example.org"],
    ['a header injection', 'EMAIL_INVALID', 'reader@example.org\nBcc: victim@example.org'],
    ['a NUL byte', 'EMAIL_INVALID', 'reader\u0000@example.org'],
    ['a non-ASCII local part', 'EMAIL_INVALID', 'ünïcödé@example.org'],
    ['a local part over 64', 'EMAIL_TOO_LONG', `${'a'.repeat(65)}@example.org`],
    ['a domain over 253', 'EMAIL_TOO_LONG', `reader@${'a'.repeat(250)}.org`],
    ['100,000 characters', 'EMAIL_TOO_LONG', 'x'.repeat(100_000)],
  ])('refuses %s with %s and stores nothing', async (_label, code, email) => {
    const before = await Promise.all([count('subscriptions'), count('outbox'), count('consents')]);
    const payload = await subscribe(email);
    expect(payload.subscription).toBeNull();
    expect(payload.userErrors).toEqual([expect.objectContaining({ field: ['input', 'email'], code })]);
    expect(await Promise.all([count('subscriptions'), count('outbox'), count('consents')])).toEqual(before);
  });

  it('refuses an unknown newsletter, and reports every mistake at once', async () => {
    const unknown = await subscribe('reader@example.org', 'no-such-letter');
    expect(unknown.userErrors).toEqual([expect.objectContaining({ field: ['input', 'newsletter'], code: 'NEWSLETTER_NOT_FOUND' })]);
    const all = await subscribe('nope', 'x'.repeat(10_000), { source: 'a\nb', consentVersion: 'v'.repeat(101) });
    expect(all.userErrors.map((e) => [e.field?.join('.'), e.code])).toEqual([
      ['input.email', 'EMAIL_INVALID'],
      ['input.newsletter', 'NEWSLETTER_NOT_FOUND'],
      ['input.source', 'INPUT_INVALID'],
      ['input.consentVersion', 'INPUT_INVALID'],
    ]);
  });

  it('accepts an internationalised domain in its ASCII form', async () => {
    const payload = await subscribe('leser@bücher.example');
    expect(payload.subscription?.email).toBe('leser@xn--bcher-kva.example');
  });

  it('answers a malformed mutation with a 4xx and a GraphQL error, not a 500', async () => {
    const missing = await app.graphql('mutation { subscribe(input: { email: "a@b.org" }) { userErrors { code } } }');
    expect(missing.status).toBe(400);
    expect(missing.errors?.[0]?.message).toMatch(/newsletter/);
    const wrongType = await app.graphql(SUBSCRIBE, { input: { email: 42, newsletter: ['x'] } });
    expect(wrongType.status).toBe(400);
    const extraField = await app.graphql(SUBSCRIBE, { input: { email: 'a@b.org', newsletter: 'x', admin: true } });
    expect(extraField.status).toBe(400);
  });
});

describe('rate limits on sign-ups', () => {
  let limited: TestApp;
  beforeAll(async () => {
    limited = await createTestApp({
      seed: { issues: 1, authors: 1, articles: 1 },
      config: {
        trustProxyHops: 1,
        signUp: { ...loadConfig({}).signUp, perEmail: { limit: 2, windowMs: 60_000 }, perClient: { limit: 3, windowMs: 60_000 } },
      },
    });
  });
  afterAll(async () => {
    await limited?.close();
  });

  const from = async (address: string, email: string) => {
    const response = await limited.fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': `203.0.113.99, ${address}` },
      body: JSON.stringify({ query: SUBSCRIBE, variables: { input: { email, newsletter: 'breakfast-in-red' } } }),
    });
    return ((await response.json()) as { data: { subscribe: Payload } }).data.subscribe;
  };

  it('refuses more sign-ups of one address than its budget, from any client, with RATE_LIMITED', async () => {
    expect((await from('198.51.100.1', 'popular@example.org')).userErrors).toEqual([]);
    expect((await from('198.51.100.2', 'Popular@EXAMPLE.org'.replace('Popular', 'popular'))).userErrors).toEqual([]);
    const third = await from('198.51.100.3', 'popular@example.org');
    expect(third.subscription).toBeNull();
    expect(third.userErrors).toEqual([{ field: null, code: 'RATE_LIMITED', message: expect.stringMatching(/try again in a minute/) }]);
  });

  it('refuses more sign-ups from one client than its budget, while other clients go on', async () => {
    for (const n of [1, 2, 3]) expect((await from('192.0.2.7', `n${n}@example.org`)).userErrors).toEqual([]);
    expect((await from('192.0.2.7', 'n4@example.org')).userErrors.map((e) => e.code)).toEqual(['RATE_LIMITED']);
    expect((await from('192.0.2.8', 'n5@example.org')).userErrors).toEqual([]);
    expect(await limited.store.db.selectFrom('subscriptions').select('id').where('email', '=', 'n4@example.org').execute()).toEqual([]);
  });
});

describe('confirming a sign-up', () => {
  it('makes it ACTIVE with the token from the e-mail, once', async () => {
    await subscribe('confirmer@example.org');
    await sender.deliverDue();
    const { confirm } = lastMail('confirmer@example.org');
    const confirmed = await tokenMutation('confirmSubscription', confirm ?? '');
    expect(confirmed.userErrors).toEqual([]);
    expect(confirmed.subscription).toMatchObject({ email: 'confirmer@example.org', status: 'ACTIVE' });
    expect(Date.parse(confirmed.subscription?.confirmedAt ?? '')).not.toBeNaN();
    const again = await tokenMutation('confirmSubscription', confirm ?? '');
    expect(again).toEqual({ subscription: null, userErrors: [expect.objectContaining({ code: 'TOKEN_USED', field: ['token'] })] });
  });

  it('stores tokens only as hashes', async () => {
    await subscribe('hashed@example.org');
    await sender.deliverDue();
    const { confirm, unsubscribe } = lastMail('hashed@example.org');
    const stored = await app.store.db.selectFrom('subscription_tokens').select('token_hash').execute();
    const hashes = stored.map((t) => t.token_hash);
    expect(hashes).not.toContain(confirm);
    expect(hashes).not.toContain(unsubscribe);
    expect(hashes.every((h) => /^[0-9a-f]{64}$/.test(h))).toBe(true);
  });

  it('refuses an expired token with TOKEN_EXPIRED', async () => {
    await subscribe('late@example.org');
    await sender.deliverDue();
    const stored = await row('late@example.org');
    await app.store.db
      .updateTable('subscription_tokens')
      .set({ expires_at: new Date(Date.now() - 1000).toISOString() })
      .where('subscription_id', '=', stored?.id ?? 0)
      .execute();
    const late = await tokenMutation('confirmSubscription', lastMail('late@example.org').confirm ?? '');
    expect(late.userErrors.map((e) => e.code)).toEqual(['TOKEN_EXPIRED']);
    expect((await row('late@example.org'))?.status).toBe('pending');
  });

  it('refuses malformed, unknown and unsubscribe tokens with TOKEN_INVALID', async () => {
    await subscribe('wrong-token@example.org');
    await sender.deliverDue();
    const { unsubscribe } = lastMail('wrong-token@example.org');
    for (const token of ['nonsense', '', 'x'.repeat(5000), 'A'.repeat(43), unsubscribe, "' or 1=1 --"]) {
      const payload = await tokenMutation('confirmSubscription', token);
      expect(payload).toEqual({ subscription: null, userErrors: [{ field: ['token'], code: 'TOKEN_INVALID', message: expect.any(String) }] });
    }
  });
});

describe('unsubscribing', () => {
  it('makes a sign-up UNSUBSCRIBED with the token from any e-mail, and twice is no error', async () => {
    const { unsubscribe } = await activeReader('leaver@example.org');
    const first = await tokenMutation('unsubscribe', unsubscribe);
    expect(first.subscription).toMatchObject({ status: 'UNSUBSCRIBED', email: 'leaver@example.org' });
    expect((await tokenMutation('unsubscribe', unsubscribe)).subscription?.status).toBe('UNSUBSCRIBED');
  });

  it('leaves no old confirmation link working, and cancels a confirmation not yet sent', async () => {
    await subscribe('changed-mind@example.org');
    await sender.deliverDue();
    const { confirm, unsubscribe } = lastMail('changed-mind@example.org');
    await subscribe('changed-mind@example.org');
    await tokenMutation('unsubscribe', unsubscribe);
    expect((await tokenMutation('confirmSubscription', confirm ?? '')).userErrors.map((e) => e.code)).toEqual(['TOKEN_INVALID']);
    const sentBefore = transport.sent.length;
    await sender.deliverDue();
    expect(transport.sent.length).toBe(sentBefore);
    expect((await row('changed-mind@example.org'))?.status).toBe('unsubscribed');
  });

  it('lets a reader sign up again afterwards, with a new confirmation', async () => {
    const { unsubscribe } = await activeReader('returner@example.org');
    await tokenMutation('unsubscribe', unsubscribe);
    await subscribe('returner@example.org');
    expect((await row('returner@example.org'))?.status).toBe('pending');
    await sender.deliverDue();
    const { confirm } = lastMail('returner@example.org');
    expect((await tokenMutation('confirmSubscription', confirm ?? '')).subscription?.status).toBe('ACTIVE');
  });

  it('ends UNSUBSCRIBED when a confirmation races an unsubscribe', async () => {
    for (let round = 0; round < 8; round++) {
      const email = `racer${round}@example.org`;
      await subscribe(email);
      await sender.deliverDue();
      const { confirm, unsubscribe } = lastMail(email);
      const [confirmed, unsubscribed] = await Promise.all([tokenMutation('confirmSubscription', confirm ?? ''), tokenMutation('unsubscribe', unsubscribe)]);
      expect(unsubscribed.subscription?.status).toBe('UNSUBSCRIBED');
      if (confirmed.subscription) expect(confirmed.subscription.status).toBe('ACTIVE');
      else expect(confirmed.userErrors.map((e) => e.code)).toEqual(['TOKEN_INVALID']);
      expect((await row(email))?.status).toBe('unsubscribed');
    }
  });
});

describe('the outbox', () => {
  it('sends each message with one-click unsubscribe headers (RFC 8058) and links under PUBLIC_URL', async () => {
    await subscribe('headers@example.org');
    await sender.deliverDue();
    const { message, unsubscribeUrl } = lastMail('headers@example.org');
    expect(message.headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
    expect(unsubscribeUrl.startsWith(`${app.config.publicUrl}/subscriptions/unsubscribe?token=`)).toBe(true);
    expect(message.text).toContain(`${app.config.publicUrl}/subscriptions/confirm?token=`);
    expect(message.subject).toBe('Confirm your subscription to Breakfast in red');
  });

  it('retries a failed delivery with backoff, then delivers', async () => {
    sender = senderFor(app, { retryBaseMs: 200 });
    await subscribe('flaky@example.org');
    transport.failures.push(new Error('connection refused'), new Error('connection refused'));
    const outbox = async () => {
      const stored = await row('flaky@example.org');
      return app.store.db
        .selectFrom('outbox')
        .selectAll()
        .where('subscription_id', '=', stored?.id ?? 0)
        .executeTakeFirstOrThrow();
    };
    const firstTry = Date.now();
    expect(await sender.deliverDue()).toBe(0);
    const waiting = await outbox();
    expect(waiting).toMatchObject({ status: 'pending', attempts: 1, last_error: 'connection refused' });
    // The next attempt waits the base delay, give or take a fifth (jitter).
    expect(new Date(waiting.next_attempt_at).getTime() - firstTry).toBeGreaterThanOrEqual(160);
    let delivered = 0;
    for (let waited = 0; delivered === 0 && waited < 10_000; waited += 50) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      delivered += await sender.deliverDue();
    }
    expect(await outbox()).toMatchObject({ status: 'sent', attempts: 3 });
  });

  it('gives a message up after MAIL_MAX_ATTEMPTS, and at once when the SMTP server refuses it for good', async () => {
    sender = senderFor(app, { maxAttempts: 1 });
    await subscribe('doomed@example.org');
    transport.failures.push(new Error('timeout'));
    await sender.deliverDue();
    sender = senderFor(app);
    await subscribe('no-such-mailbox@example.org');
    transport.failures.push(Object.assign(new Error('550 mailbox unavailable'), { responseCode: 550 }));
    await sender.deliverDue();
    for (const email of ['doomed@example.org', 'no-such-mailbox@example.org']) {
      const stored = await row(email);
      const message = await app.store.db
        .selectFrom('outbox')
        .selectAll()
        .where('subscription_id', '=', stored?.id ?? 0)
        .executeTakeFirstOrThrow();
      expect(message).toMatchObject({ status: 'failed', attempts: 1 });
    }
  });

  it('sends a message once when two senders drain the outbox at the same time', async () => {
    await subscribe('one-copy@example.org');
    await Promise.all([sender.deliverDue(), senderFor(app).deliverDue(), sender.deliverDue()]);
    expect(transport.sent.filter((m) => m.to === 'one-copy@example.org')).toHaveLength(1);
  });
});

describe('the confirmation and unsubscribe pages', () => {
  it('shows a button on GET and confirms only on its POST: a link scanner confirms nothing', async () => {
    await subscribe('clicker@example.org');
    await sender.deliverDue();
    const { confirm } = lastMail('clicker@example.org');
    const page = await app.fetch(`/subscriptions/confirm?token=${confirm}`);
    expect(page.status).toBe(200);
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    const html = await page.text();
    expect(html).toContain('<form method="post" action="confirm">');
    expect(html).toContain('Breakfast in red');
    await app.fetch(`/subscriptions/confirm?token=${confirm}`, { method: 'HEAD' });
    expect((await row('clicker@example.org'))?.status).toBe('pending');
    const posted = await app.fetch('/subscriptions/confirm', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: confirm ?? '' }).toString(),
    });
    expect(posted.status).toBe(200);
    expect(await posted.text()).toContain('You are subscribed');
    expect((await row('clicker@example.org'))?.status).toBe('active');
  });

  it('unsubscribes with the one-click POST of RFC 8058', async () => {
    const { unsubscribeUrl } = await activeReader('one-click@example.org');
    const url = new URL(unsubscribeUrl);
    const response = await app.fetch(`${url.pathname}${url.search}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(response.status).toBe(200);
    expect((await row('one-click@example.org'))?.status).toBe('unsubscribed');
  });

  it('answers bad tokens, bad methods and oversized forms with a clear page, never a 500', async () => {
    for (const path of ['/subscriptions/confirm', '/subscriptions/unsubscribe']) {
      for (const query of ['', '?token=', '?token=nonsense', `?token=${'A'.repeat(43)}`, '?token=%00%3Cscript%3E']) {
        const response = await app.fetch(`${path}${query}`);
        expect(response.status).toBe(400);
        expect(await response.text()).not.toContain('<script>');
      }
      expect((await app.fetch(path, { method: 'PUT' })).status).toBe(405);
      const huge = await app.fetch(path, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `token=${'x'.repeat(100_000)}`,
      });
      expect(huge.status).toBe(400);
      const noToken = await app.fetch(path, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' });
      expect(noToken.status).toBe(400);
    }
  });

  it('escapes what it shows', async () => {
    await app.store.db.insertInto('newsletters').values({ slug: 'hostile', name: '<script>alert(1)</script>', description: null }).execute();
    await subscribe('escaped@example.org', 'hostile');
    await sender.deliverDue();
    const { confirm, message } = lastMail('escaped@example.org');
    const html = await (await app.fetch(`/subscriptions/confirm?token=${confirm}`)).text();
    expect(html).not.toContain('<script>alert');
    expect(html).toContain('&#60;script&#62;');
    expect(message.html).not.toContain('<script>alert');
  });
});

describe('privacy of sign-ups', () => {
  it('never shows a subscription, or its e-mail, to a public query', async () => {
    const payload = await subscribe('private@example.org');
    const id = payload.subscription?.id;
    const response = await app.graphql<{ node: unknown }>('query N($id: ID!) { node(id: $id) { id ... on NewsletterSubscription { email } } }', { id });
    expect(response.errors).toBeUndefined();
    expect(response.data?.node).toBeNull();
    const listed = await app.graphql('{ subscriptions(newsletter: "breakfast-in-red") { edges { node { email } } } }');
    expect(listed.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    expect(JSON.stringify(listed)).not.toContain('private@example.org');
  });

  it('gives sign-ups random ids, so an id does not tell when an address signed up', async () => {
    const ids = await Promise.all(['r1@example.org', 'r2@example.org'].map(async (email) => (await subscribe(email)).subscription?.id ?? ''));
    const decoded = ids.map((id) => Buffer.from(id, 'base64').toString());
    for (const value of decoded) expect(value).toMatch(/^NewsletterSubscription:[0-9a-f]{32}$/);
  });
});

describe('normalising e-mail addresses', () => {
  it.each([
    [' Reader@Example.ORG ', 'Reader@example.org'],
    ['first.last+tag@sub.example.co.uk', 'first.last+tag@sub.example.co.uk'],
    ["o'brien@example.ie", "o'brien@example.ie"],
    ['leser@BÜCHER.example', 'leser@xn--bcher-kva.example'],
  ])('%j becomes %j', (raw, email) => {
    expect(normalizeEmail(raw)).toEqual({ email });
  });
});
