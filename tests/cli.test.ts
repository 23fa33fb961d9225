import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Metrics } from '../src/metrics.ts';
import { MIGRATIONS } from '../src/store/migrate.ts';
import { openStore } from '../src/store/store.ts';
import { runCli } from './support/cli.ts';
import { createThrowawayStore, type ThrowawayStore } from './support/store.ts';

const FIXTURES = path.join(import.meta.dirname, 'fixtures/documents');
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

async function throwaway(): Promise<ThrowawayStore> {
  const store = await createThrowawayStore();
  cleanups.push(() => store.drop());
  return store;
}

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'masthead-cli-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function query<T>(databaseUrl: string, work: (db: ReturnType<typeof openStore>['db']) => Promise<T>): Promise<T> {
  const store = openStore(
    databaseUrl.startsWith('sqlite:')
      ? { dialect: 'sqlite', file: databaseUrl.slice('sqlite:'.length), embeddedDefault: false }
      : { dialect: 'postgres', url: databaseUrl },
    new Metrics(),
  );
  try {
    return await work(store.db);
  } finally {
    await store.close();
  }
}

describe('masthead, the command', () => {
  it('prints its usage for --help and for each command', async () => {
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: masthead <command>/);
    for (const command of ['serve', 'migrate', 'import', 'seed', 'newsletter']) {
      const result = await runCli([command, '--help']);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(new RegExp(`Usage: masthead ${command}`));
    }
  });

  it('refuses no command, an unknown command and an unknown flag with status 2', async () => {
    expect((await runCli([])).code).toBe(2);
    const unknown = await runCli(['publish']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command "publish"/);
    const flag = await runCli(['migrate', '--force']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/--force/);
  });

  it.each([
    [{ DATABASE_URL: 'mysql://localhost/db' }, /^masthead: DATABASE_URL must start with sqlite:, file:, postgres:\/\/ or postgresql:\/\//],
    [{ DATABASE_URL: 'sqlite:' }, /^masthead: DATABASE_URL names no SQLite file/],
    [{ DATABASE_URL: 'postgres://' }, /^masthead: DATABASE_URL names no PostgreSQL host/],
    [{ DEMO_CONTENT: 'yes' }, /^masthead: DEMO_CONTENT must be 0 or 1, got "yes"/],
    [{ DEMO_CONTENT: '2' }, /^masthead: DEMO_CONTENT must be 0 or 1/],
    [{ PORT: 'http' }, /^masthead: PORT must be a whole number from 0 to 65535, got "http"/],
    [{ PORT: '70000' }, /^masthead: PORT must be a whole number/],
    [{ PORT: '-1' }, /^masthead: PORT must be a whole number/],
    [{ HOST: 'bad host' }, /^masthead: HOST must be a host name or IP address/],
    [{ MAX_PAGE_SIZE: '0' }, /^masthead: MAX_PAGE_SIZE must be a whole number from 1/],
    [{ DATABASE_POOL_SIZE: '0' }, /^masthead: DATABASE_POOL_SIZE must be a whole number from 1 to 1000, got "0"/],
    [{ DATABASE_STATEMENT_TIMEOUT_MS: '5s' }, /^masthead: DATABASE_STATEMENT_TIMEOUT_MS must be a whole number/],
    [{ DATABASE_CONNECT_TIMEOUT_MS: '1' }, /^masthead: DATABASE_CONNECT_TIMEOUT_MS must be a whole number from 100/],
    [{ PUBLIC_URL: 'news.example.org' }, /^masthead: PUBLIC_URL must be an http:\/\/ or https:\/\/ URL, got "news.example.org"/],
    [{ PUBLIC_URL: 'ftp://news.example.org' }, /^masthead: PUBLIC_URL must be an http:\/\/ or https:\/\/ URL without query/],
    [{ PUBLIC_URL: 'https://news.example.org/?utm=1' }, /^masthead: PUBLIC_URL must be .* without query/],
    [{ SMTP_URL: 'mail.example.org:25' }, /^masthead: SMTP_URL must be a smtp:\/\/ or smtps:\/\/ URL/],
    [{ SMTP_URL: 'http://user:secret@mail.example.org' }, /^masthead: SMTP_URL must be .*"http:\/\/user:\*\*\*@mail.example.org"/],
    [{ MAIL_FROM: 'Masthead <not an address>' }, /^masthead: MAIL_FROM must be an address or "Name <address>"/],
    [{ MAIL_FROM: 'a@b.org\r\nBcc: x@y.org' }, /^masthead: MAIL_FROM must be an address/],
    [{ MAIL_MAX_ATTEMPTS: '0' }, /^masthead: MAIL_MAX_ATTEMPTS must be a whole number from 1 to 100/],
    [{ MAIL_RETRY_BASE_MS: 'soon' }, /^masthead: MAIL_RETRY_BASE_MS must be a whole number/],
    [{ CONFIRM_TOKEN_TTL_HOURS: '0' }, /^masthead: CONFIRM_TOKEN_TTL_HOURS must be a whole number from 1 to 8760/],
    [{ UNSUBSCRIBE_TOKEN_TTL_DAYS: '99999' }, /^masthead: UNSUBSCRIBE_TOKEN_TTL_DAYS must be a whole number from 1 to 3650/],
    [{ SUBSCRIBE_RATE_PER_CLIENT: '20 per minute' }, /^masthead: SUBSCRIBE_RATE_PER_CLIENT must look like 20\/10m/],
    [{ SUBSCRIBE_RATE_PER_EMAIL: '5/0h' }, /^masthead: SUBSCRIBE_RATE_PER_EMAIL must look like 20\/10m/],
    [{ REDIS_URL: 'localhost:6379' }, /^masthead: REDIS_URL must be a redis:\/\/ or rediss:\/\/ URL/],
    [{ TRUST_PROXY_HOPS: 'yes' }, /^masthead: TRUST_PROXY_HOPS must be a whole number from 0 to 10/],
    [{ CONSENT_VERSION: 'two words' }, /^masthead: CONSENT_VERSION must be 1 to 100 printable ASCII characters/],
    [{ MAX_DEPTH: '0' }, /^masthead: MAX_DEPTH must be a whole number from 1/],
    [{ MAX_COST: 'cheap' }, /^masthead: MAX_COST must be a whole number/],
    [{ MAX_BODY_BYTES: '10' }, /^masthead: MAX_BODY_BYTES must be a whole number from 1024/],
    [{ INTROSPECTION: 'maybe' }, /^masthead: INTROSPECTION must be on or off/],
    [{ MAIL_SENDER: 'sometimes' }, /^masthead: MAIL_SENDER must be on or off/],
    [{ CORS_ORIGINS: 'news.example.org' }, /^masthead: CORS_ORIGINS must be \* or a comma-separated list of origins/],
    [{ CORS_ORIGINS: 'https://news.example.org/path' }, /^masthead: CORS_ORIGINS must be/],
    [{ RATE_LIMIT_PER_CLIENT: 'lots' }, /^masthead: RATE_LIMIT_PER_CLIENT must look like 20\/10m/],
    [{ COST_BUDGET_PER_KEY: '1/1y' }, /^masthead: COST_BUDGET_PER_KEY must look like/],
  ])('refuses the bad setting %j in one line, exit 2, writing nothing', async (env, message) => {
    const dir = tempDir();
    const result = await runCli(['serve'], env as Record<string, string>, dir);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(message);
    expect(existsSync(path.join(dir, 'data'))).toBe(false);
  });

  it('checks the settings before every command that opens the store', async () => {
    const dir = tempDir();
    for (const command of [['migrate'], ['seed'], ['import', dir]]) {
      const result = await runCli(command, { DEMO_CONTENT: 'true' }, dir);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/^masthead: DEMO_CONTENT must be 0 or 1, got "true"\n$/);
    }
    expect(existsSync(path.join(dir, 'data'))).toBe(false);
  });
});

describe('a store that cannot be opened', () => {
  it.each([
    ['a folder that cannot be made', 'sqlite:/proc/masthead-nope/store.sqlite', /cannot open the SQLite file \/proc\/masthead-nope\/store\.sqlite: ENOENT/],
    ['a folder where the file should be', `sqlite:${tmpdir()}`, /cannot open the SQLite file .*: unable to open database file/],
    [
      'a PostgreSQL server that is not there',
      'postgres://postgres:secret@127.0.0.1:9/masthead',
      /^masthead \w+: cannot open the store in DATABASE_URL \(PostgreSQL database postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:9\/masthead\): .*ECONNREFUSED/,
    ],
  ])('is reported in one line with status 1: %s', async (_name, url, message) => {
    for (const command of ['migrate', 'serve']) {
      const result = await runCli([command], { DATABASE_URL: url, DATABASE_CONNECT_TIMEOUT_MS: '500' });
      expect(result.code).toBe(1);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toMatch(message);
    }
  });

  it('never shows the password of DATABASE_URL', async () => {
    const result = await runCli(['migrate'], { DATABASE_URL: 'postgres://postgres:hunter2@127.0.0.1:9/masthead', DATABASE_CONNECT_TIMEOUT_MS: '500' });
    expect(result.code).toBe(1);
    expect(result.stderr).not.toContain('hunter2');
  });

  it('is reported when the file is not a database, and the file is left alone', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'notes.sqlite');
    writeFileSync(file, 'my notes, not a database\n'.repeat(100));
    const result = await runCli(['migrate'], { DATABASE_URL: `sqlite:${file}` });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/file is not a database/);
    expect(readFileSync(file, 'utf8')).toBe('my notes, not a database\n'.repeat(100));
  });
});

describe('masthead migrate', () => {
  it('applies the migrations once, even when several run at once', async () => {
    const store = await throwaway();
    const results = await Promise.all(Array.from({ length: 4 }, () => runCli(['migrate'], { DATABASE_URL: store.databaseUrl })));
    expect(results.filter((r) => r.code !== 0).map((r) => r.stderr)).toEqual([]);
    expect(results.filter((r) => /applied/.test(r.stdout))).toHaveLength(1);
    const again = await runCli(['migrate'], { DATABASE_URL: store.databaseUrl });
    expect(again.stdout).toMatch(/the store is up to date/);
    const migrations = await query(store.databaseUrl, (db) =>
      db
        .selectFrom('kysely_migration' as never)
        .selectAll()
        .execute(),
    );
    expect(migrations).toHaveLength(Object.keys(MIGRATIONS).length);
  });
});

describe('masthead import', () => {
  it('imports the good documents of a folder, reports each bad one by path and reason, and exits 1', async () => {
    const store = await throwaway();
    const result = await runCli(['import', FIXTURES], { DATABASE_URL: store.databaseUrl });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/imported 7 of 14 documents in [\d.]+ s: 7 new, 0 updated, 0 unchanged, 7 failed/);
    for (const [file, reason] of [
      ['empty.txt', 'the document is empty'],
      ['garbled-timestamp.txt', '"Tue 31 Feb 2025, 19:46 BST" is not a real date and time'],
      ['not-utf8.txt', 'not valid UTF-8'],
      ['issue-mismatch.txt', 'the issue number is 3100 under the headline but 3999 in the footer'],
      ['no-body.txt', 'no body paragraphs'],
      ['no-timestamp.txt', 'no publication time'],
    ]) {
      expect(result.stderr).toContain(`${path.join(FIXTURES, 'bad', file ?? '')}: ${reason}`);
    }
    const count = await query(store.databaseUrl, (db) =>
      db
        .selectFrom('articles')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow(),
    );
    expect(Number(count.n)).toBe(7);
  });

  it('changes nothing when the same documents come again, and updates a piece in place when its text changes', async () => {
    const store = await throwaway();
    const dir = tempDir();
    const source = readFileSync(path.join(FIXTURES, 'good/summer-single-author.txt'), 'utf8');
    writeFileSync(path.join(dir, 'piece.txt'), source);
    const env = { DATABASE_URL: store.databaseUrl };
    expect((await runCli(['import', dir], env)).stdout).toMatch(/1 new/);
    const snapshot = () =>
      query(store.databaseUrl, async (db) => ({
        articles: await db.selectFrom('articles').selectAll().execute(),
        bylines: await db.selectFrom('bylines').selectAll().execute(),
        authors: await db.selectFrom('authors').selectAll().execute(),
        issues: await db.selectFrom('issues').selectAll().execute(),
        newsletters: await db.selectFrom('newsletters').selectAll().execute(),
      }));
    const before = await snapshot();
    const again = await runCli(['import', dir, path.join(dir, 'piece.txt')], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/0 new, 0 updated, 2 unchanged, 0 failed/);
    expect(await snapshot()).toEqual(before);

    writeFileSync(
      path.join(dir, 'piece.txt'),
      source
        .replace('A mass meeting is called for Friday.', 'A mass meeting on Friday voted to stay out.')
        .replace('by Marta Quinlan', 'by Marta Quinlan and Sam Okoro'),
    );
    const edited = await runCli(['import', dir], env);
    expect(edited.stdout).toMatch(/0 new, 1 updated, 0 unchanged/);
    const after = await snapshot();
    expect(after.articles).toHaveLength(1);
    expect(after.articles[0]?.id).toBe(before.articles[0]?.id);
    expect(after.articles[0]?.slug).toBe(before.articles[0]?.slug);
    expect(after.articles[0]?.body).toMatch(/voted to stay out\.$/);
    expect(after.bylines.map((b) => b.position)).toEqual([0, 1]);
  });

  it('gives two different pieces with the same headline different slugs', async () => {
    const store = await throwaway();
    const dir = tempDir();
    const source = readFileSync(path.join(FIXTURES, 'good/web-only.txt'), 'utf8');
    writeFileSync(path.join(dir, 'a.txt'), source);
    writeFileSync(path.join(dir, 'b.txt'), source.replace('Sun 26 Oct 2025, 14:30 GMT', 'Sun 26 Oct 2025, 16:00 GMT'));
    expect((await runCli(['import', dir], { DATABASE_URL: store.databaseUrl })).stdout).toMatch(/2 new/);
    const slugs = await query(store.databaseUrl, (db) => db.selectFrom('articles').select('slug').orderBy('id').execute());
    expect(slugs.map((s) => s.slug)).toEqual(['live-climate-march-reaches-the-square', 'live-climate-march-reaches-the-square-2']);
  });

  it('reports paths that do not exist and needs at least one path', async () => {
    const store = await throwaway();
    const missing = await runCli(['import', '/no/such/folder'], { DATABASE_URL: store.databaseUrl });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('/no/such/folder: no such file or folder');
    const none = await runCli(['import'], { DATABASE_URL: store.databaseUrl });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/at least one file or folder/);
  });

  it('says so when a folder holds no documents', async () => {
    const store = await throwaway();
    const dir = tempDir();
    writeFileSync(path.join(dir, 'notes.md'), 'not a document');
    const result = await runCli(['import', dir], { DATABASE_URL: store.databaseUrl });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`found no documents (*.txt) in ${JSON.stringify(dir)}: nothing to import`);
  });

  it('shows progress on a large batch', async () => {
    const store = await throwaway();
    const dir = tempDir();
    const source = readFileSync(path.join(FIXTURES, 'good/web-only.txt'), 'utf8');
    for (let i = 0; i < 120; i++) {
      const minute = String(i % 60).padStart(2, '0');
      const hour = 10 + Math.floor(i / 60);
      writeFileSync(path.join(dir, `doc-${i}.txt`), source.replace('14:30 GMT', `${hour}:${minute} GMT`));
    }
    const result = await runCli(['import', dir], { DATABASE_URL: store.databaseUrl });
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/imported 120\/120 documents \(100%\)/);
    expect(result.stdout).toMatch(/120 new/);
  });
});

describe('masthead seed', () => {
  it('fills an empty store with the same corpus for the same flags, and refuses a full one', async () => {
    const [a, b] = [await throwaway(), await throwaway()];
    const flags = ['seed', '--issues', '5', '--authors', '8', '--articles', '120', '--seed', '42'];
    const first = await runCli(flags, { DATABASE_URL: a.databaseUrl });
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/seeded 5 issues, 8 authors, 120 articles and 2 newsletters/);
    expect((await runCli(flags, { DATABASE_URL: b.databaseUrl })).code).toBe(0);
    const corpus = (url: string) =>
      query(url, (db) => db.selectFrom('articles').select(['slug', 'headline', 'published_at', 'body', 'status']).orderBy('slug').execute());
    const [left, right] = [await corpus(a.databaseUrl), await corpus(b.databaseUrl)];
    expect(left).toHaveLength(120);
    expect(left).toEqual(right);
    const full = await runCli(flags, { DATABASE_URL: a.databaseUrl });
    expect(full.code).toBe(1);
    expect(full.stderr).toMatch(/already holds content/);
  });

  it.each([
    [['--articles', '-5']],
    [['--articles', 'many']],
    [['--articles', '100000000000']],
    [['--issues', '1.5']],
    [['--articles']],
    [['--bogus', '1']],
    [['extra']],
  ])('refuses the flags %j with status 2', async (flags) => {
    const store = await throwaway();
    const result = await runCli(['seed', ...flags], { DATABASE_URL: store.databaseUrl });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^masthead seed: /);
  });
});

describe('masthead newsletter', () => {
  it('adds newsletters, refuses a taken slug, and lists them with their sign-ups by status', async () => {
    const store = await throwaway();
    const env = { DATABASE_URL: store.databaseUrl };
    const added = await runCli(['newsletter', 'add', '--slug', 'the-long-read', '--name', 'The Long Read', '--description', 'Saturdays.'], env);
    expect(added).toMatchObject({ code: 0, stdout: 'added newsletter the-long-read: The Long Read\n' });
    const again = await runCli(['newsletter', 'add', '--slug', 'the-long-read', '--name', 'Another'], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/the slug "the-long-read" exists already/);
    await query(store.databaseUrl, async (db) => {
      const newsletter = await db.selectFrom('newsletters').select('id').where('slug', '=', 'the-long-read').executeTakeFirstOrThrow();
      await db
        .insertInto('subscriptions')
        .values(
          (['pending', 'active', 'active', 'unsubscribed'] as const).map((status, i) => ({
            public_id: `${i}`.padStart(32, '0'),
            newsletter_id: newsletter.id,
            email: `reader${i}@example.org`,
            status,
          })),
        )
        .execute();
    });
    const listed = await runCli(['newsletter', 'list'], env);
    expect(listed.code).toBe(0);
    expect(listed.stdout.split('\n')).toEqual([
      'SLUG           NAME           PENDING  ACTIVE  UNSUBSCRIBED',
      'the-long-read  The Long Read        1       2             1',
      '',
    ]);
    const json = await runCli(['newsletter', 'list', '--json'], env);
    expect(JSON.parse(json.stdout)).toEqual([{ slug: 'the-long-read', name: 'The Long Read', pending: 1, active: 2, unsubscribed: 1 }]);
  });

  it.each([
    [['newsletter', 'add', '--name', 'No slug'], /--slug must be lower-case letters/],
    [['newsletter', 'add', '--slug', 'Has Spaces', '--name', 'X'], /--slug must be lower-case letters/],
    [['newsletter', 'add', '--slug', 'ok', '--name', ''], /--name must not be empty/],
    [['newsletter', 'add', '--slug', 'ok', '--name', 'a\u0007b'], /--name must not contain control characters/],
    [['newsletter', 'add', '--slug', 'ok', '--name', 'x'.repeat(201)], /--name must be at most 200 characters/],
    [['newsletter', 'add', '--slug', 'ok', '--name', 'X', '--colour', 'red'], /--colour/],
    [['newsletter', 'remove'], /unknown action "remove": use add or list/],
  ])('refuses %j with status 2, writing nothing', async (args, message) => {
    const dir = tempDir();
    const result = await runCli(args, {}, dir);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(existsSync(path.join(dir, 'data'))).toBe(false);
  });
});
