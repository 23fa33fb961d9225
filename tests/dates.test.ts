import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './support/app.ts';

// Both stores hold times from year 1 to year 9999 UTC. A time outside, or a calendar date that
// does not exist, is the client's mistake (BAD_USER_INPUT) on both stores, never a 500 and never
// a wrong answer.

let app: TestApp;

beforeAll(async () => {
  app = await createTestApp({ seed: { issues: 3, authors: 4, articles: 30, seed: 8 } });
});
afterAll(async () => {
  await app?.close();
});

type Articles = { articles: { totalCount: number; edges: Array<{ cursor: string }> } };

const filtered = (filter: string) => app.graphql<Articles>(`{ articles(first: 5, filter: { ${filter} }) { totalCount edges { cursor } } }`);

/** Refused as the client's mistake: a 400 when the input is refused before the query runs, a 200 with the error when a resolver refuses it. */
function expectRefused(response: Awaited<ReturnType<TestApp['graphql']>>, wording: RegExp) {
  expect([200, 400]).toContain(response.status);
  expect(response.data ?? null).toBeNull();
  expect(response.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  expect(response.errors?.[0]?.message).toMatch(wording);
}

/** A cursor of the newest-first article order, as a client that forged one would write it. */
async function forgedCursor(time: string): Promise<string> {
  const { data } = await filtered('');
  const [kind, , id] = JSON.parse(Buffer.from(data?.articles.edges[0]?.cursor ?? '', 'base64url').toString('utf8')) as [string, string, number];
  return Buffer.from(JSON.stringify([kind, time, id])).toString('base64url');
}

describe('times outside the years 1 to 9999', () => {
  it.each([
    ['an offset that moves the last minute of 9999 into the year 10000', '9999-12-31T23:59:00-23:59'],
    ['the last instant of 9999 seen from west of Greenwich', '9999-12-31T23:59:59.999-00:01'],
    ['the year 0', '0000-06-01T00:00:00Z'],
    ['an offset that moves the first minute of year 1 into the year 0', '0001-01-01T00:30:00+01:00'],
  ])('refuses %s as a filter, in a literal and in a variable', async (_case, time) => {
    expectRefused(await filtered(`publishedAfter: ${JSON.stringify(time)}`), /outside the years 0001 to 9999/);
    const variable = await app.graphql<Articles>('query Q($t: DateTime) { articles(filter: { publishedBefore: $t }) { totalCount } }', { t: time });
    expectRefused(variable, /outside the years 0001 to 9999/);
  });

  it('accepts the first and last instants of the range, and answers alike on both stores', async () => {
    const { data: all } = await filtered('');
    const after = await filtered('publishedAfter: "0001-01-01T00:00:00Z"');
    expect(after.errors).toBeUndefined();
    expect(after.data?.articles.totalCount).toBe(all?.articles.totalCount);
    const later = await filtered('publishedAfter: "9999-12-31T23:59:59.999Z"');
    expect(later.errors).toBeUndefined();
    expect(later.data?.articles.totalCount).toBe(0);
    const before = await filtered('publishedBefore: "9999-12-31T23:59:59.999+00:00"');
    expect(before.data?.articles.totalCount).toBe(all?.articles.totalCount);
  });

  it('refuses a calendar date that does not exist', async () => {
    expectRefused(await filtered('publishedAfter: "2023-06-31T12:00:00Z"'), /not a real point in time/);
    expectRefused(await filtered('publishedAfter: "2023-02-29T12:00:00Z"'), /not a real point in time/);
  });
});

describe('cursors holding impossible times', () => {
  it.each([
    ['a day that does not exist', '2023-06-31T00:00:00.000Z'],
    ['the year 0', '0000-01-01T00:00:00.000Z'],
    ['the 29th of February of a common year', '2023-02-29T10:00:00.000Z'],
    ['the 25th hour', '2023-06-01T24:00:00.000Z'],
  ])('refuses a cursor holding %s', async (_case, time) => {
    const cursor = await forgedCursor(time);
    expectRefused(await app.graphql(`{ articles(first: 2, after: "${cursor}") { edges { node { id } } } }`), /Invalid cursor/);
  });

  it('still follows a cursor holding a real time', async () => {
    const cursor = await forgedCursor('2007-07-17T18:46:00.000Z');
    const response = await app.graphql(`{ articles(first: 2, after: "${cursor}") { edges { node { id } } } }`);
    expect(response.errors).toBeUndefined();
  });
});
