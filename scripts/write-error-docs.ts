// `npm run docs:errors`: writes the error code tables of docs/queries.md from the catalogue in
// src/errors/error-codes.ts (see scripts/error-docs.ts).
import { readFileSync, writeFileSync } from 'node:fs';
import { withErrorCodeTables } from './error-docs.ts';

const target = new URL('../docs/queries.md', import.meta.url);
const before = readFileSync(target, 'utf8');
const after = withErrorCodeTables(before);
if (after !== before) writeFileSync(target, after);
console.log(`${after === before ? 'unchanged' : 'wrote'} docs/queries.md`);
