import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// House rule: all SQL sits in repositories under src/store. The importer and the seeder call
// them; they build no statement of their own.

const SRC = path.resolve(import.meta.dirname, '../src');
const STATEMENT = /\.(selectFrom|selectNoFrom|insertInto|updateTable|deleteFrom|replaceInto|mergeInto)\(|\bsql`|\.execute\(\)/;

describe('where SQL lives', () => {
  it.each(['importer', 'seed'])('src/%s builds no statement of its own: its SQL is in repositories under src/store', (folder) => {
    const offending = readdirSync(path.join(SRC, folder))
      .filter((file) => file.endsWith('.ts'))
      .filter((file) => STATEMENT.test(readFileSync(path.join(SRC, folder, file), 'utf8')));
    expect(offending).toEqual([]);
  });
});
