import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_CORPUS } from '../src/seed/demo-corpus.ts';
import { createTestApp, type TestApp } from './support/app.ts';

// Every GraphQL example of the README, run on the demo corpus that `npm start` loads: each must
// answer without errors and with data in every list it asks for, so no example shows a newcomer
// an empty page.

const README = readFileSync(path.join(import.meta.dirname, '../README.md'), 'utf8');
const EXAMPLES = [...README.matchAll(/```graphql\n([\s\S]*?)```/g)].map((match) => match[1] ?? '');

/** The paths of what came back empty: a null field, an empty list (but for `userErrors`, whose right answer is empty). */
function emptyPaths(value: unknown, at: string): string[] {
  if (value === null) return [at];
  if (Array.isArray(value)) return value.length === 0 ? [at] : value.flatMap((item, i) => emptyPaths(item, `${at}[${i}]`));
  if (typeof value === 'object') {
    return Object.entries(value as object).flatMap(([key, inner]) => (key === 'userErrors' ? [] : emptyPaths(inner, `${at}.${key}`)));
  }
  return [];
}

/** Every `userErrors` list in an answer, flattened: each must be empty for an example to show success. */
function userErrors(value: unknown): unknown[] {
  if (Array.isArray(value)) return value.flatMap(userErrors);
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value as object).flatMap(([key, inner]) => (key === 'userErrors' ? (inner as unknown[]) : userErrors(inner)));
}

let app: TestApp;
beforeAll(async () => {
  app = await createTestApp({ seed: DEMO_CORPUS });
});
afterAll(async () => {
  await app?.close();
});

describe('the README examples', () => {
  it('are there', () => {
    expect(EXAMPLES.length).toBeGreaterThanOrEqual(3);
  });

  it.each(
    EXAMPLES.map((query) => [
      query
        .split('\n')
        .find((line) => line.trim() !== '')
        ?.trim() ?? '',
      query,
    ]),
  )('answer with data on the demo corpus: %s', async (_first, query) => {
    const { status, data, errors } = await app.graphql(query);
    expect(errors, JSON.stringify(errors)).toBeUndefined();
    expect(status).toBe(200);
    // A field that may rightly be null (an unread newsletter's confirmedAt) is not asked in the examples.
    expect(emptyPaths(data, 'data')).toEqual([]);
    expect(userErrors(data)).toEqual([]);
  });
});
