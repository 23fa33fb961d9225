// The error code tables of docs/queries.md, made from the catalogue in src/errors/error-codes.ts.
// scripts/write-error-docs.ts writes them; tests/error-codes.test.ts fails when the doc disagrees.
import { GRAPHQL_ERROR_CODES, type GraphQLErrorCodeEntry, USER_ERROR_CODES } from '../src/errors/error-codes.ts';

export const USER_TABLE = {
  start: '<!-- userErrors codes: generated from src/errors/error-codes.ts by `npm run docs:errors` -->',
  end: '<!-- end of the generated userErrors codes -->',
};
export const GRAPHQL_TABLE = {
  start: '<!-- GraphQL error codes: generated from src/errors/error-codes.ts by `npm run docs:errors` -->',
  end: '<!-- end of the generated GraphQL error codes -->',
};

const cell = (text: string) => text.replaceAll('|', '\\|');

export function renderUserErrorCodes(): string {
  const rows = Object.entries(USER_ERROR_CODES).map(([code, meaning]) => `| \`${code}\` | ${cell(meaning)} |`);
  return ['| code | when |', '| --- | --- |', ...rows].join('\n');
}

export function renderGraphQLErrorCodes(): string {
  const rows = Object.entries(GRAPHQL_ERROR_CODES as Record<string, GraphQLErrorCodeEntry>).map(
    ([code, entry]) =>
      `| \`${code}\` | ${entry.status ?? '200, beside the data'} | ${cell(entry.meaning)}${entry.emittedBy ? ` (from ${entry.emittedBy})` : ''} |`,
  );
  return ['| `extensions.code` | HTTP status | when |', '| --- | --- | --- |', ...rows].join('\n');
}

/** The text between a pair of markers, or null when the doc lacks them. */
export function between(doc: string, markers: { start: string; end: string }): string | null {
  const start = doc.indexOf(markers.start);
  const end = doc.indexOf(markers.end);
  return start < 0 || end < start ? null : doc.slice(start + markers.start.length, end).trim();
}

function replaceBetween(doc: string, markers: { start: string; end: string }, table: string): string {
  if (between(doc, markers) === null) throw new Error(`docs/queries.md lacks the markers ${markers.start} … ${markers.end}`);
  const start = doc.indexOf(markers.start) + markers.start.length;
  return `${doc.slice(0, start)}\n${table}\n${doc.slice(doc.indexOf(markers.end))}`;
}

/** docs/queries.md with both code tables made afresh. */
export function withErrorCodeTables(doc: string): string {
  return replaceBetween(replaceBetween(doc, USER_TABLE, renderUserErrorCodes()), GRAPHQL_TABLE, renderGraphQLErrorCodes());
}
