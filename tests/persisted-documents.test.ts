import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { createTestApp, type TestApp } from './support/app.ts';
import { runCli } from './support/cli.ts';

const MANIFEST = path.join(import.meta.dirname, 'generated/persisted-documents.json');
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

async function post(app: TestApp, body: unknown, headers: Record<string, string> = {}) {
  const response = await app.fetch('/graphql', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as { data?: unknown; errors?: Array<{ message: string; extensions?: { code?: string } }> } };
}

describe('trusted documents (TRUSTED_DOCUMENTS, the manifest codegen writes)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp({
      seed: { issues: 2, authors: 2, articles: 6 },
      config: { http: { ...loadConfig({}).http, trustedDocuments: MANIFEST } },
    });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('runs an operation of the manifest named by its documentId or its APQ hash', async () => {
    const manifest = (await import(MANIFEST, { with: { type: 'json' } })).default as Record<string, string>;
    const [documentId, document] = Object.entries(manifest).find(([, text]) => text.startsWith('query IssuePage')) ?? ['', ''];
    const byId = await post(app, { documentId, variables: { number: 1001, first: 2 } });
    expect(byId.status).toBe(200);
    expect(byId.body.errors).toBeUndefined();
    const byHash = await post(app, { extensions: { persistedQuery: { version: 1, sha256Hash: sha256(document) } }, variables: { number: 1001, first: 2 } });
    expect(byHash.body).toEqual(byId.body);
  });

  it('refuses any other query from anonymous callers, and unknown or malformed ids', async () => {
    const arbitrary = await post(app, { query: '{ latestIssue { number } }' });
    expect(arbitrary.status).toBe(400);
    expect(arbitrary.body.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_ONLY');
    const unknown = await post(app, { documentId: `sha256:${'0'.repeat(64)}` });
    expect(unknown.body.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    for (const documentId of ['nonsense', 'sha256:xyz', 'x'.repeat(10_000)]) {
      const malformed = await post(app, { documentId });
      expect(malformed.status).toBe(400);
      expect(malformed.body.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_INVALID');
    }
  });

  it('refuses to start with a manifest that cannot be used, as a bad setting (exit 2)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'masthead-manifest-'));
    try {
      const bad = path.join(dir, 'bad.json');
      for (const content of ['not json', '[]', JSON.stringify({ [`sha256:${'a'.repeat(64)}`]: '{ latestIssue { number } }' })]) {
        writeFileSync(bad, content);
        const result = await runCli(['serve'], { TRUSTED_DOCUMENTS: bad }, dir);
        expect(result.code).toBe(2);
        expect(result.stderr).toMatch(/^masthead: TRUSTED_DOCUMENTS /);
      }
      const missing = await runCli(['serve'], { TRUSTED_DOCUMENTS: path.join(dir, 'none.json') }, dir);
      expect(missing.code).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('automatic persisted queries', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp({ seed: { issues: 2, authors: 2, articles: 6 } });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('asks for an unknown hash once, then serves it by hash alone, also as a cacheable GET', async () => {
    const query = '{ latestIssue { number } }';
    const extensions = { persistedQuery: { version: 1, sha256Hash: sha256(query) } };
    const first = await post(app, { extensions });
    expect(first.status).toBe(200);
    expect(first.body.errors?.[0]?.message).toBe('PersistedQueryNotFound');
    expect((await post(app, { query, extensions })).body.data).toEqual({ latestIssue: { number: 1002 } });
    const get = await app.fetch(`/graphql?extensions=${encodeURIComponent(JSON.stringify(extensions))}`, { headers: { accept: 'application/json' } });
    expect(get.status).toBe(200);
    expect(((await get.json()) as { data: unknown }).data).toEqual({ latestIssue: { number: 1002 } });
    expect(get.headers.get('cache-control')).toBe('public, max-age=30');
  });

  it('keeps registered documents within a budget of 4 Mi characters, forgetting the least recently used first', async () => {
    const register = async (query: string) => {
      const extensions = { persistedQuery: { version: 1, sha256Hash: sha256(query) } };
      expect((await post(app, { query, extensions })).status).toBe(200);
      return extensions;
    };
    const first = await register('query First { latestIssue { number } }');
    // Five documents of 900,000 characters (a long comment each) are past the 4 MiB budget.
    for (let i = 0; i < 5; i++) await register(`# ${String(i).repeat(900_000)}\n{ latestIssue { number } }`);
    const forgotten = await post(app, { extensions: first });
    expect(forgotten.body.errors?.[0]?.message).toBe('PersistedQueryNotFound');
  });

  it('refuses a query whose hash does not match', async () => {
    const mismatch = await post(app, {
      query: '{ latestIssue { number } }',
      extensions: { persistedQuery: { version: 1, sha256Hash: sha256('{ issues { totalCount } }') } },
    });
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_HASH_MISMATCH');
  });
});
