import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { type GraphQLEnumType, isEnumType } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { between, GRAPHQL_TABLE, renderGraphQLErrorCodes, renderUserErrorCodes, USER_TABLE } from '../scripts/error-docs.ts';
import { GRAPHQL_ERROR_CODES, type GraphQLErrorCodeEntry, USER_ERROR_CODES } from '../src/errors/error-codes.ts';
import { schema } from '../src/schema/public-schema.ts';
import { createTestApp, type TestApp } from './support/app.ts';

const SRC = new URL('../src/', import.meta.url).pathname;
const CATALOGUE = path.join(SRC, 'errors/error-codes.ts');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'migrations' ? [] : sourceFiles(full);
    return entry.name.endsWith('.ts') && full !== CATALOGUE ? [full] : [];
  });
}

/** The top-level arguments of the call whose `(` is at `open`, as source text. */
function argumentsAt(text: string, open: number): string[] {
  const args: string[] = [];
  let depth = 0;
  let start = open + 1;
  let quote: string | null = null;
  for (let index = open; index < text.length; index++) {
    const char = text[index];
    if (quote !== null) {
      if (char === '\\') index++;
      else if (char === quote) quote = null;
      continue;
    }
    if (char === "'" || char === '"' || char === '`') quote = char;
    else if (char === '(' || char === '[' || char === '{') depth++;
    else if (char === ')' || char === ']' || char === '}') {
      depth--;
      if (depth === 0) {
        args.push(text.slice(start, index));
        return args.map((arg) => arg.trim());
      }
    } else if (char === ',' && depth === 1) {
      args.push(text.slice(start, index));
      start = index + 1;
    }
  }
  return args;
}

// The ways src/ emits a code: a `code:` or `problem:` property written out, or an argument of a
// maker (src/errors) or of the few local wrappers around one, whose code parameters are typed
// from the catalogue (so TypeScript refuses an uncatalogued code passed through a variable).
const EMITTERS = ['userError', 'codedError', 'refusalBody', 'refusal', 'refuse', 'fail', 'tokenError', 'SubgraphFailure'];
const CODE = "'([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*)'";

/** Every code written in src/, with the files that emit it. */
function emittedCodes(): Map<string, Set<string>> {
  const found = new Map<string, Set<string>>();
  const add = (code: string, file: string) => found.set(code, (found.get(code) ?? new Set()).add(path.relative(SRC, file)));
  for (const file of sourceFiles(SRC)) {
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(new RegExp(`\\b(?:code|problem)\\s*:\\s*${CODE}`, 'g'))) add(match[1] ?? '', file);
    for (const match of text.matchAll(new RegExp(`\\b(?:${EMITTERS.join('|')})\\(`, 'g'))) {
      for (const arg of argumentsAt(text, (match.index ?? 0) + match[0].length - 1)) {
        const literal = new RegExp(`^${CODE}$`).exec(arg);
        if (literal) add(literal[1] ?? '', file);
        const conditional = new RegExp(`\\?\\s*${CODE}\\s*:\\s*${CODE}$`).exec(arg);
        if (conditional) for (const code of conditional.slice(1)) add(code ?? '', file);
      }
    }
  }
  return found;
}

describe('the catalogue of error codes', () => {
  const emitted = emittedCodes();
  const catalogued = new Set([...Object.keys(USER_ERROR_CODES), ...Object.keys(GRAPHQL_ERROR_CODES)]);

  it('holds every code that src/ emits, as a userErrors code or an extensions.code', () => {
    expect(emitted.size, 'the search finds the codes it is meant to find').toBeGreaterThan(25);
    const missing = [...emitted].filter(([code]) => !catalogued.has(code)).map(([code, files]) => `${code} (${[...files].join(', ')})`);
    expect(missing, 'codes emitted in src/ that src/errors/error-codes.ts does not list').toEqual([]);
  });

  it('lists no code that nothing emits, but for the ones graphql-yoga emits itself', () => {
    const ours = Object.entries(GRAPHQL_ERROR_CODES as Record<string, GraphQLErrorCodeEntry>).filter(([, entry]) => entry.emittedBy === undefined);
    const unused = [...Object.keys(USER_ERROR_CODES), ...ours.map(([code]) => code)].filter((code) => !emitted.has(code));
    expect(unused).toEqual([]);
  });

  it('gives every code a one-line meaning', () => {
    for (const meaning of [...Object.values(USER_ERROR_CODES), ...Object.values(GRAPHQL_ERROR_CODES).map((entry) => entry.meaning)]) {
      expect(meaning).toMatch(/^\S[^\n]{10,}$/);
    }
  });

  it('is the enum UserErrorCode of the schema, value for value and meaning for meaning', () => {
    const type = schema.getType('UserErrorCode');
    expect(isEnumType(type)).toBe(true);
    const values = (type as GraphQLEnumType).getValues();
    expect(Object.fromEntries(values.map((value) => [value.name, value.description]))).toEqual(USER_ERROR_CODES);
  });

  it('leaves UserError.code a String! that says it is one of UserErrorCode', () => {
    const code = schema.getType('UserError');
    const field = code && 'getFields' in code ? code.getFields().code : undefined;
    expect(String(field?.type)).toBe('String!');
    expect(field?.description).toMatch(/UserErrorCode/);
  });

  it('is what docs/queries.md lists (npm run docs:errors)', () => {
    const doc = readFileSync(new URL('../docs/queries.md', import.meta.url), 'utf8');
    expect(between(doc, USER_TABLE)).toBe(renderUserErrorCodes());
    expect(between(doc, GRAPHQL_TABLE)).toBe(renderGraphQLErrorCodes());
  });
});

describe('codes as a client meets them', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp();
  });
  afterAll(async () => {
    await app.close();
  });

  it('a sign-up with a bad address and an unknown newsletter gets userErrors whose codes are values of UserErrorCode', async () => {
    const response = await app.graphql<{ subscribe: { userErrors: Array<{ code: string; field: string[] }> } }>(
      'mutation { subscribe(input: { email: "not an address", newsletter: "no-such-letter" }) { userErrors { code field } } }',
    );
    const enumValues = (schema.getType('UserErrorCode') as GraphQLEnumType).getValues().map((value) => value.name);
    const codes = response.data?.subscribe.userErrors.map((error) => error.code);
    expect(codes).toEqual(['EMAIL_INVALID', 'NEWSLETTER_NOT_FOUND']);
    for (const code of codes ?? []) expect(enumValues).toContain(code);
  });

  it("a query too deep gets the catalogue's status with its code", async () => {
    const deep = `{ articles(first: 1) { nodes { ${'authors { articles(first: 1) { nodes { '.repeat(8)}id${' } } }'.repeat(8)} } } }`;
    const response = await app.graphql(deep);
    expect(response.errors?.[0]?.extensions?.code).toBe('QUERY_TOO_DEEP');
    expect(response.status).toBe(GRAPHQL_ERROR_CODES.QUERY_TOO_DEEP.status);
  });
});
