import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.ts';
import { createThrowawayStore, type ThrowawayStore } from './support/store.ts';

// A folder given to `masthead import` may hold symbolic links. A link to a document is followed;
// anything the import does not read is named with the reason, never passed over without a word.

const GOOD = path.join(import.meta.dirname, 'fixtures/documents/good');
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

async function setUp(): Promise<{ store: ThrowawayStore; root: string; folder: string }> {
  const store = await createThrowawayStore();
  cleanups.push(() => store.drop());
  const root = mkdtempSync(path.join(tmpdir(), 'masthead-links-'));
  cleanups.push(() => rmSync(root, { recursive: true, force: true }));
  const folder = path.join(root, 'incoming');
  mkdirSync(folder);
  copyFileSync(path.join(GOOD, 'summer-single-author.txt'), path.join(folder, 'a-plain-file.txt'));
  return { store, root, folder };
}

describe('masthead import of a folder with symbolic links', () => {
  it('imports a document that a symbolic link in the folder leads to, from wherever it lies', async () => {
    const { store, root, folder } = await setUp();
    const elsewhere = path.join(root, 'archive');
    mkdirSync(elsewhere);
    copyFileSync(path.join(GOOD, 'winter-three-authors.txt'), path.join(elsewhere, 'kept-here.txt'));
    symlinkSync(path.join(elsewhere, 'kept-here.txt'), path.join(folder, 'linked.txt'));
    const result = await runCli(['import', folder], { DATABASE_URL: store.databaseUrl });
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/imported 2 of 2 documents in [\d.]+ s: 2 new, 0 updated, 0 unchanged, 0 failed$/m);
    expect(result.code).toBe(0);
  });

  it('names a symbolic link that leads nowhere as a failed document, and exits 1', async () => {
    const { store, root, folder } = await setUp();
    symlinkSync(path.join(root, 'gone.txt'), path.join(folder, 'dangling.txt'));
    const result = await runCli(['import', folder], { DATABASE_URL: store.databaseUrl });
    expect(result.stderr).toContain(`${path.join(folder, 'dangling.txt')}: a symbolic link that leads nowhere: no such file or folder`);
    expect(result.stdout).toMatch(/1 new, 0 updated, 0 unchanged, 1 failed/);
    expect(result.code).toBe(1);
  });

  it('names a symbolic link to a folder as skipped, without following it, and still exits 0', async () => {
    const { store, root, folder } = await setUp();
    const other = path.join(root, 'other');
    mkdirSync(other);
    copyFileSync(path.join(GOOD, 'web-only.txt'), path.join(other, 'not-imported.txt'));
    symlinkSync(other, path.join(folder, 'more'));
    // A loop: the folder links to itself.
    symlinkSync(folder, path.join(folder, 'again'));
    const result = await runCli(['import', folder], { DATABASE_URL: store.databaseUrl });
    expect(result.stderr).toContain(`${path.join(folder, 'more')}: skipped: a symbolic link to a folder, not followed: name the folder to import it`);
    expect(result.stderr).toContain(`${path.join(folder, 'again')}: skipped:`);
    expect(result.stdout).toMatch(/imported 1 of 1 documents in [\d.]+ s: 1 new, 0 updated, 0 unchanged, 0 failed, 2 skipped$/m);
    expect(result.code).toBe(0);
  });
});
