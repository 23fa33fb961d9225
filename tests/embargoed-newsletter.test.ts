import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseStoreLocation } from '../src/config.ts';
import { Metrics } from '../src/metrics.ts';
import { openStore, type Store } from '../src/store/store.ts';
import { createTestApp, type TestApp } from './support/app.ts';
import { runCli } from './support/cli.ts';

// A newsletter that an import makes from an embargoed piece's promotion line comes out with the
// piece: until then the public cannot list it, look it up or sign up to it. A newsletter that
// an editor made is public from the start, whatever promotes it.

const dir = mkdtempSync(path.join(tmpdir(), 'masthead-embargo-'));

function document(headline: string, newsletter: string, time: string): string {
  const file = path.join(dir, `${headline.toLowerCase().replace(/\W+/g, '-')}.txt`);
  writeFileSync(
    file,
    [
      'The Evening Ledger',
      headline,
      'by Marta Quinlan\nIssue No. 3200',
      'A preview written ahead of time and held until the speech.',
      `Click here to subscribe to our weekly email newsletter '${newsletter}'`,
      'Article information',
      `${time}\nIssue No. 3200\nShare this article`,
    ].join('\n\n'),
  );
  return file;
}

let app: TestApp;
/** A second connection: an editor at a SQL prompt, lifting the embargo early. */
let editor: Store;

beforeAll(async () => {
  app = await createTestApp({
    documents: [
      document('Budget day: what the chancellor will announce', 'The Budget Brief', 'Wed 22 Nov 2045, 12:30 GMT'),
      document('A piece already out', 'The Morning Round', 'Tue 17 Jul 2007, 19:46 BST'),
    ],
  });
  editor = openStore(parseStoreLocation(app.databaseUrl, process.cwd()), new Metrics());
});
afterAll(async () => {
  await editor?.close();
  await app?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function listed(): Promise<string[]> {
  const { data, errors } = await app.graphql<{ newsletters: Array<{ slug: string }> }>('{ newsletters { slug } }');
  expect(errors).toBeUndefined();
  return (data?.newsletters ?? []).map((newsletter) => newsletter.slug);
}

async function signUp(slug: string): Promise<string[]> {
  const { data } = await app.graphql<{ subscribe: { userErrors: Array<{ code: string }> } }>(
    'mutation S($slug: String!) { subscribe(input: { email: "early@example.org", newsletter: $slug }) { userErrors { code } } }',
    { slug },
  );
  return (data?.subscribe.userErrors ?? []).map((error) => error.code);
}

async function entity(slug: string): Promise<unknown> {
  const { data, errors } = await app.graphql<{ _entities: unknown[] }>(
    'query E($r: [_Any!]!) { _entities(representations: $r) { ... on Newsletter { slug name } } }',
    { r: [{ __typename: 'Newsletter', slug }] },
  );
  expect(errors).toBeUndefined();
  return data?._entities[0];
}

describe("an embargoed piece's newsletter", () => {
  it('is not listed, found or open to sign-ups while the piece is embargoed', async () => {
    expect(await listed()).toEqual(['the-morning-round']);
    expect(await entity('the-budget-brief')).toBeNull();
    expect(await signUp('the-budget-brief')).toEqual(['NEWSLETTER_NOT_FOUND']);
  });

  it('comes out with the piece', async () => {
    const past = new Date(Date.now() - 60_000).toISOString();
    const [piece] = await editor.db.selectFrom('articles').select('id').where('headline', '=', 'Budget day: what the chancellor will announce').execute();
    await editor.db.updateTable('articles').set({ published_at: past }).where('id', '=', piece!.id).execute();
    await editor.db.updateTable('bylines').set({ published_at: past }).where('article_id', '=', piece!.id).execute();
    expect(await listed()).toEqual(['the-budget-brief', 'the-morning-round']);
    expect(await entity('the-budget-brief')).toEqual({ slug: 'the-budget-brief', name: 'The Budget Brief' });
    expect(await signUp('the-budget-brief')).toEqual([]);
  });

  it("leaves an editor's newsletter public though only an embargoed piece promotes it", async () => {
    const added = await runCli(['newsletter', 'add', '--slug', 'the-launch-letter', '--name', 'The Launch Letter'], { DATABASE_URL: app.databaseUrl });
    expect(added.code).toBe(0);
    const report = await runCli(['import', document('A launch held for next year', 'The Launch Letter', 'Wed 22 Nov 2045, 12:30 GMT')], {
      DATABASE_URL: app.databaseUrl,
    });
    expect(report.stdout).toMatch(/1 new/);
    expect(await listed()).toContain('the-launch-letter');
    expect(await entity('the-launch-letter')).toEqual({ slug: 'the-launch-letter', name: 'The Launch Letter' });
  });
});
