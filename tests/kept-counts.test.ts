import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importDocuments } from '../src/importer/import-documents.ts';
import { createTestApp, type TestApp } from './support/app.ts';

// Author orders and the archive's total come from counts kept beside the content. These tests
// check that what they show always equals a count of what the public can see.

let app: TestApp;
let dir: string;
beforeAll(async () => {
  app = await createTestApp({ seed: { issues: 6, authors: 12, articles: 200, seed: 5 } });
  dir = mkdtempSync(path.join(tmpdir(), 'masthead-kept-'));
});
afterAll(async () => {
  await app?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface AuthorRow {
  slug: string;
  articleCount: number;
  lastPublishedAt: string | null;
  articles: { totalCount: number };
}

async function authors(orderBy: string): Promise<AuthorRow[]> {
  const { data, errors } = await app.graphql<{ authors: { totalCount: number; edges: { node: AuthorRow }[] } }>(
    `query A($orderBy: AuthorOrder) { authors(first: 100, orderBy: $orderBy) { totalCount edges { node {
      slug articleCount lastPublishedAt articles(first: 1) { totalCount } } } } }`,
    { orderBy },
  );
  expect(errors).toBeUndefined();
  expect(data?.authors.totalCount).toBe(data?.authors.edges.length);
  return data?.authors.edges.map((e) => e.node) ?? [];
}

async function expectExactOrders() {
  const byCount = await authors('ARTICLE_COUNT_DESC');
  const counts = byCount.map((a) => a.articleCount);
  expect(counts).toEqual([...counts].sort((a, b) => b - a));
  for (const author of byCount) expect(author.articles.totalCount).toBe(author.articleCount);
  const byRecency = await authors('LAST_PUBLISHED_DESC');
  const times = byRecency.map((a) => a.lastPublishedAt ?? '');
  expect(times).toEqual([...times].sort().reverse());
  expect(new Set(byRecency.map((a) => a.slug))).toEqual(new Set((await authors('NAME_ASC')).map((a) => a.slug)));
  const { data } = await app.graphql<{ articles: { totalCount: number } }>('{ articles { totalCount } }');
  const live = await app.store.db
    .selectFrom('articles')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('status', '=', 'published')
    .where('published_at', '<=', new Date().toISOString())
    .executeTakeFirstOrThrow();
  expect(data?.articles.totalCount).toBe(Number(live.n));
  return byCount;
}

function document(headline: string, byline: string, time: string): string {
  return `The Ledger\n\n${headline}\n\nby ${byline}\nIssue No. 1001\n\nA paragraph.\n\nArticle information\n\n${time}\n`;
}

describe('kept counts', () => {
  it('order authors exactly on a freshly seeded archive', async () => {
    await expectExactOrders();
  });

  it('follow an import: a new author appears with the right count, and totals move', async () => {
    writeFileSync(path.join(dir, 'a.txt'), document('A first piece', 'Nova Newcomer', 'Mon 23 Nov 2026, 09:00 GMT'));
    writeFileSync(path.join(dir, 'b.txt'), document('A second piece', 'Nova Newcomer', 'Tue 24 Nov 2026, 09:00 GMT'));
    await importDocuments(app.store, [dir]);
    const byCount = await expectExactOrders();
    expect(byCount.find((a) => a.slug === 'nova-newcomer')).toMatchObject({
      articleCount: 2,
      lastPublishedAt: '2026-11-24T09:00:00.000Z',
    });
  });

  it('stay exact while a piece waits for its time: it is in no count and no order', async () => {
    writeFileSync(path.join(dir, 'c.txt'), document('Scheduled far ahead', 'Nova Newcomer', 'Wed 1 Jan 2070, 09:00 GMT'));
    writeFileSync(path.join(dir, 'd.txt'), document('Only scheduled', 'Zed Future', 'Wed 1 Jan 2070, 10:00 GMT'));
    await importDocuments(app.store, [dir]);
    const byCount = await expectExactOrders();
    expect(byCount.find((a) => a.slug === 'nova-newcomer')?.articleCount).toBe(2);
    expect(byCount.map((a) => a.slug)).not.toContain('zed-future');
  });

  it('follow a byline that changes on re-import', async () => {
    writeFileSync(path.join(dir, 'a.txt'), document('A first piece', 'Omar Other', 'Mon 23 Nov 2026, 09:00 GMT'));
    await importDocuments(app.store, [dir]);
    const byCount = await expectExactOrders();
    expect(byCount.find((a) => a.slug === 'nova-newcomer')?.articleCount).toBe(1);
    expect(byCount.find((a) => a.slug === 'omar-other')?.articleCount).toBe(1);
    expect(readFileSync(path.join(dir, 'a.txt'), 'utf8')).toMatch(/Omar Other/);
  });
});
