import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseStoreLocation } from '../src/config.ts';
import { MemoryResponseStore } from '../src/http/plugins/response-cache.ts';
import { Metrics } from '../src/metrics.ts';
import { openStore, type Store } from '../src/store/store.ts';
import { createTestApp, type TestApp } from './support/app.ts';

// The kept counts in `totals` are part of what answers show: a write to them, by whoever, must
// change the content version that cached answers are keyed by.

let app: TestApp;
/** A second connection to the same store: an editor at a SQL prompt. */
let editor: Store;

beforeAll(async () => {
  app = await createTestApp({ seed: { issues: 3, authors: 5, articles: 40, seed: 4 }, responseCache: new MemoryResponseStore() });
  editor = openStore(parseStoreLocation(app.databaseUrl, process.cwd()), new Metrics());
});
afterAll(async () => {
  await editor?.close();
  await app?.close();
});

async function totalCount(): Promise<number> {
  const { data, errors } = await app.graphql<{ articles: { totalCount: number } }>('{ articles { totalCount } }');
  expect(errors).toBeUndefined();
  return data?.articles.totalCount ?? Number.NaN;
}

describe('the content version', () => {
  it('changes when the kept count of published pieces is written directly, so no cached answer shows the old count', async () => {
    const before = await totalCount();
    expect(await app.statementsFor(totalCount)).toBeLessThanOrEqual(1);
    await editor.db
      .updateTable('totals')
      .set((eb) => ({ value: eb('value', '+', 7) }))
      .where('name', '=', 'published_articles')
      .execute();
    // On PostgreSQL the new version reaches the server by NOTIFY, milliseconds after the commit
    // (the response cache's content watch): polled, within a bound that a stale cache would miss.
    let seen = await totalCount();
    for (let waited = 0; seen !== before + 7 && waited < 2000; waited += 25) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      seen = await totalCount();
    }
    expect(seen).toBe(before + 7);
  });

  it('changes when a row of totals is added or removed', async () => {
    const version = async () =>
      Number((await editor.db.selectFrom('totals').select('value').where('name', '=', 'content_version').executeTakeFirstOrThrow()).value);
    const start = await version();
    await editor.db.insertInto('totals').values({ name: 'an_editors_note', value: 1 }).execute();
    expect(await version()).toBe(start + 1);
    await editor.db.deleteFrom('totals').where('name', '=', 'an_editors_note').execute();
    expect(await version()).toBe(start + 2);
  });
});
