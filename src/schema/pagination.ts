import type { ObjectRef } from '@pothos/core';
import type { Keyed, PageWindow } from '../store/article.repository.ts';
import type { KeysetValue } from '../store/model.ts';
import type { Context } from '../context.ts';
import { builder } from './builder.ts';
import { codedError } from '../errors/coded-error.ts';
import { canonicalInstant } from './scalars.ts';

export const DEFAULT_PAGE_SIZE = 20;

/** The `first` and `after` of every connection field. */
export const connectionArgs = builder.args((t) => ({
  first: t.int({
    description: `How many items to return: ${DEFAULT_PAGE_SIZE} when omitted, at most 100 (or the server's MAX_PAGE_SIZE).`,
  }),
  after: t.string({ description: 'Return the items after this cursor: an `endCursor` or edge `cursor` of this connection.' }),
}));

export interface ConnectionArgs {
  first?: number | null;
  after?: string | null;
}

/**
 * What a cursor of one ordering holds. A cursor is the keyset of a row (its sort values, id last),
 * tagged with its ordering so that a cursor from another connection or order is refused.
 */
export interface CursorKind {
  name: string;
  parts: ReadonlyArray<CursorPart>;
}

/**
 * What each value of a cursor must be. A cursor comes back from clients, so it is checked as
 * strictly as any input: a forged one is a BAD_USER_INPUT, never a value the store chokes on.
 */
export type CursorPart = 'id' | 'count' | 'rank' | 'time' | 'text';

const MAX_INT = 2_147_483_647;

function isCursorPart(value: unknown, part: CursorPart): boolean {
  switch (part) {
    case 'id':
      return Number.isInteger(value) && (value as number) >= 1 && (value as number) <= MAX_INT;
    case 'count':
      return Number.isInteger(value) && (value as number) >= 0 && (value as number) <= MAX_INT;
    case 'rank':
      return typeof value === 'number' && Number.isFinite(value) && Math.abs(value) < 1e9;
    case 'time':
      // A real instant the stores can hold: not 2023-06-31 (which Date.parse reads as 1 July), not year 0.
      return typeof value === 'string' && canonicalInstant(value) !== null;
    case 'text':
      return typeof value === 'string' && value.length <= 1000 && !value.includes('\u0000');
  }
}

export function encodeCursor(kind: CursorKind, key: readonly KeysetValue[]): string {
  return Buffer.from(JSON.stringify([kind.name, ...key]), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string, kind: CursorKind): KeysetValue[] {
  const invalid = () =>
    codedError('BAD_USER_INPUT', `Invalid cursor ${JSON.stringify(cursor.slice(0, 100))}: pass a cursor that this connection returned, in the same order`);
  if (cursor.length > 1000 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid();
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(decoded) || decoded.length !== kind.parts.length + 1 || decoded[0] !== kind.name) throw invalid();
  const values = decoded.slice(1) as unknown[];
  const ok = values.every((value, index) => {
    const part = kind.parts[index];
    return part !== undefined && isCursorPart(value, part);
  });
  if (!ok) throw invalid();
  return values as KeysetValue[];
}

/** The page size a client asked for, checked against the server's cap. */
export function pageSize(first: number | null | undefined, context: Context): number {
  if (first == null) return Math.min(DEFAULT_PAGE_SIZE, context.config.maxPageSize);
  if (first < 0) throw codedError('BAD_USER_INPUT', `first must not be negative; got ${first}`);
  const max = context.config.maxPageSize;
  if (first > max) throw codedError('BAD_USER_INPUT', `first must be at most ${max}; got ${first}. Page through with after.`);
  return first;
}

/** The window to fetch: one row more than asked, to learn whether a next page exists. */
export function pageWindow(args: ConnectionArgs, kind: CursorKind, context: Context): PageWindow & { first: number } {
  const first = pageSize(args.first, context);
  const after = args.after == null ? null : decodeCursor(args.after, kind);
  return { first, after, limit: first + 1, now: context.now };
}

export function toConnection<T>(
  rows: readonly Keyed<T>[],
  window: { first: number; after: readonly KeysetValue[] | null },
  kind: CursorKind,
  totalCount: () => Promise<number>,
) {
  // Cursors are made when a client asks for them: most pages are read without.
  const edges = rows.slice(0, window.first).map((row) => {
    let cursor: string | undefined;
    return {
      node: row.node,
      get cursor() {
        cursor ??= encodeCursor(kind, row.key);
        return cursor;
      },
    };
  });
  return {
    edges,
    pageInfo: {
      hasNextPage: rows.length > window.first,
      hasPreviousPage: window.after !== null,
      get startCursor() {
        return edges[0]?.cursor ?? null;
      },
      get endCursor() {
        return edges.at(-1)?.cursor ?? null;
      },
    },
    totalCount,
  };
}

type Types = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never;

/** Gives a connection type the `totalCount` field that every connection carries. */
export function withTotalCount<Shape extends { totalCount: () => Promise<number> }>(connection: ObjectRef<Types, Shape>, noun: string) {
  builder.objectField(connection, 'totalCount', (t) =>
    t.int({
      description: `How many ${noun} the whole connection holds, across all its pages.`,
      resolve: (parent) => parent.totalCount(),
    }),
  );
  return connection;
}
