import { createServer } from 'node:net';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type ServerProcess, startServerProcess } from './support/cli.ts';
import { createThrowawayStore, type ThrowawayStore } from './support/store.ts';

// The whole flow as a reader meets it: a sign-up over HTTP, the e-mail arriving at a real SMTP
// server, the confirmation page and its button, and the one-click unsubscribe of the e-mail's
// List-Unsubscribe header, against a real `masthead serve` on the store under test.

/** A real SMTP server on a free port that keeps every message it receives. */
async function startMailbox(port = 0) {
  const received: ParsedMail[] = [];
  const waiters: Array<() => void> = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      simpleParser(stream)
        .then((mail) => {
          received.push(mail);
          for (const wake of waiters.splice(0)) wake();
          callback();
        })
        .catch(callback);
    },
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port: (server.server.address() as { port: number }).port,
    received,
    /** The first message to `to` (waits up to 15 s for it). */
    async mailTo(to: string): Promise<ParsedMail> {
      const deadline = Date.now() + 15_000;
      for (;;) {
        const found = received.find((mail) => mail.to && !Array.isArray(mail.to) && mail.to.value[0]?.address === to);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no mail to ${to} arrived`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 200);
        });
      }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A header as the message carried it (mailparser folds the List-* headers into one object). */
function rawHeader(mail: ParsedMail, name: string): string | undefined {
  const line = mail.headerLines.find((header) => header.key === name.toLowerCase())?.line;
  return line
    ?.slice(line.indexOf(':') + 1)
    .replace(/\r?\n\s+/g, ' ')
    .trim();
}

/** A port that nothing listens on. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

async function subscribe(server: ServerProcess, email: string) {
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      query: 'mutation S($input: SubscribeInput!) { subscribe(input: $input) { subscription { status } userErrors { code } } }',
      variables: { input: { email, newsletter: 'breakfast-in-red', source: 'e2e' } },
    }),
  });
  expect(response.status).toBe(200);
  expect(((await response.json()) as { data: unknown }).data).toEqual({ subscribe: { subscription: { status: 'PENDING' }, userErrors: [] } });
}

async function subscriberCounts(databaseUrl: string) {
  const listed = await runCli(['newsletter', 'list', '--json'], { DATABASE_URL: databaseUrl });
  expect(listed.code).toBe(0);
  return (JSON.parse(listed.stdout) as Array<{ slug: string; pending: number; active: number; unsubscribed: number }>).find(
    (n) => n.slug === 'breakfast-in-red',
  );
}

let mailbox: Awaited<ReturnType<typeof startMailbox>>;
let store: ThrowawayStore;

beforeAll(async () => {
  mailbox = await startMailbox();
  store = await createThrowawayStore();
});
afterAll(async () => {
  await mailbox?.close();
  await store?.drop();
});

describe('a reader signing up', () => {
  it('gets an e-mail whose page confirms on its button, and unsubscribes with one click', async () => {
    const server = await startServerProcess({
      DATABASE_URL: store.databaseUrl,
      DEMO_CONTENT: '1',
      SMTP_URL: `smtp://127.0.0.1:${mailbox.port}`,
      MAIL_FROM: 'Morning Star <news@masthead.example>',
      PUBLIC_URL: 'http://reader-facing.example',
    });
    try {
      await subscribe(server, 'e2e.reader@example.org');
      const mail = await mailbox.mailTo('e2e.reader@example.org');
      expect(mail.subject).toBe('Confirm your subscription to Breakfast in red');
      expect(mail.from?.text).toBe('"Morning Star" <news@masthead.example>');
      expect(rawHeader(mail, 'List-Unsubscribe-Post')).toBe('List-Unsubscribe=One-Click');

      // Links start with PUBLIC_URL; the test reaches the same paths on the server it started.
      const confirmLink = /http:\/\/reader-facing\.example(\/subscriptions\/confirm\?token=[\w-]+)/.exec(mail.text ?? '')?.[1];
      expect(confirmLink).toBeDefined();
      const page = await fetch(`${server.url}${confirmLink}`);
      expect(page.status).toBe(200);
      const html = await page.text();
      const token = /name="token" value="([\w-]+)"/.exec(html)?.[1] ?? '';
      expect((await subscriberCounts(store.databaseUrl))?.pending).toBe(1);

      const action = /<form method="post" action="(\w+)">/.exec(html)?.[1] ?? '';
      const confirmed = await fetch(new URL(action, `${server.url}${confirmLink}`), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token }).toString(),
      });
      expect(confirmed.status).toBe(200);
      expect(await subscriberCounts(store.databaseUrl)).toMatchObject({ pending: 0, active: 1 });

      const oneClick = new URL(/^<(.+)>$/.exec(rawHeader(mail, 'List-Unsubscribe') ?? '')?.[1] ?? '');
      const unsubscribed = await fetch(`${server.url}${oneClick.pathname}${oneClick.search}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'List-Unsubscribe=One-Click',
      });
      expect(unsubscribed.status).toBe(200);
      expect(await subscriberCounts(store.databaseUrl)).toMatchObject({ active: 0, unsubscribed: 1 });
    } finally {
      await server.stop();
    }
  });

  it('retries while the SMTP server is down, and delivers once it is back', async () => {
    const port = await closedPort();
    const server = await startServerProcess({
      DATABASE_URL: store.databaseUrl,
      SMTP_URL: `smtp://127.0.0.1:${port}`,
      MAIL_RETRY_BASE_MS: '200',
      MAIL_POLL_MS: '100',
    });
    try {
      await subscribe(server, 'patient@example.org');
      for (let waited = 0; !/attempt 1 failed, retrying/.test(server.output()) && waited < 10_000; waited += 50) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(server.output()).toMatch(/attempt 1 failed, retrying/);
      const back = await startMailbox(port);
      try {
        expect((await back.mailTo('patient@example.org')).subject).toMatch(/Confirm your subscription/);
      } finally {
        await back.close();
      }
    } finally {
      await server.stop();
    }
  });

  it('still gets the e-mail when the server dies between the sign-up and the send', async () => {
    // This instance only queues (MAIL_SENDER=off), so it dies with the message unsent.
    const down = await startServerProcess({ DATABASE_URL: store.databaseUrl, MAIL_SENDER: 'off' });
    await subscribe(down, 'survivor@example.org');
    await down.kill();

    const up = await startServerProcess({
      DATABASE_URL: store.databaseUrl,
      SMTP_URL: `smtp://127.0.0.1:${mailbox.port}`,
      MAIL_POLL_MS: '100',
    });
    try {
      const mail = await mailbox.mailTo('survivor@example.org');
      expect(mail.text).toMatch(/\/subscriptions\/confirm\?token=[\w-]{43}/);
    } finally {
      await up.stop();
    }
  });
});
