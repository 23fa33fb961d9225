import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthorDashboardDocument, IssuePageDocument, SearchDocument, SubscribeDocument } from './generated/graphql.ts';
import { createTestApp, type TestApp } from './support/app.ts';

// The operations that the README shows, run as a client would: typed documents from codegen.

let app: TestApp;
beforeAll(async () => {
  app = await createTestApp({
    seed: { issues: 3, authors: 5, articles: 30 },
    documents: [path.join(import.meta.dirname, 'fixtures/documents/good')],
  });
});
afterAll(async () => {
  await app?.close();
});

describe('the README examples', () => {
  it('reads the articles of an issue', async () => {
    const { data, errors } = await app.execute(IssuePageDocument, { number: 3100 });
    expect(errors).toBeUndefined();
    expect(data?.issue?.articleCount).toBe(3);
    expect(data?.issue?.articles.edges.map((e) => e.node.headline)).toEqual([
      'Dock strike closes the port for a third day',
      "What we think: the port dispute is everyone's dispute",
      'Carriage returns and a byte-order mark',
    ]);
  });

  it('builds an author dashboard', async () => {
    const { data, errors } = await app.execute(AuthorDashboardDocument, { slug: 'tom-reyes' });
    expect(errors).toBeUndefined();
    expect(data?.author).toMatchObject({ name: 'Tom Reyes', articleCount: 2, lastPublishedAt: '2026-01-13T09:05:00.000Z' });
    expect(data?.authors.edges.length).toBeGreaterThan(3);
  });

  it('searches', async () => {
    const { data } = await app.execute(SearchDocument, { query: 'rent strike repairs' });
    expect(data?.search.edges[0]?.node.slug).toBe('tenants-win-repairs-after-rent-strike');
  });

  it('signs a reader up', async () => {
    const { data } = await app.execute(SubscribeDocument, { email: 'reader@example.org', newsletter: 'the-early-ledger' });
    expect(data?.subscribe).toMatchObject({ subscription: { status: 'PENDING', newsletter: { name: 'The Early Ledger' } }, userErrors: [] });
  });
});
