import { type RawBuilder, type SqlBool, sql } from 'kysely';
import type { KeysetValue } from './model.ts';

export interface SortKey {
  /** A column or expression, e.g. sql.ref('articles.published_at'). */
  expression: RawBuilder<unknown>;
  direction: 'asc' | 'desc';
}

/**
 * The rows that sort strictly after `values` in the order `keys`: the keyset (seek) predicate
 * `k1 > v1 OR (k1 = v1 AND k2 > v2) …`, with `<` for descending keys. Unlike OFFSET, its cost
 * does not grow with the depth of the page.
 */
export function keysetAfter(keys: readonly SortKey[], values: readonly KeysetValue[]): RawBuilder<SqlBool> {
  const alternatives = keys.map((key, index) => {
    const equalities = keys.slice(0, index).map((earlier, i) => sql`${earlier.expression} = ${values[i]}`);
    const comparison = key.direction === 'asc' ? sql`${key.expression} > ${values[index]}` : sql`${key.expression} < ${values[index]}`;
    return sql.join([...equalities, comparison], sql` and `);
  });
  const [first] = keys;
  // Implied by the alternatives, but a planner cannot start an index range from an OR: this
  // bound on the leading key is where the range starts, so a deep page seeks instead of scanning.
  const leading = first ? (first.direction === 'asc' ? sql`${first.expression} >= ${values[0]} and ` : sql`${first.expression} <= ${values[0]} and `) : sql``;
  return sql<SqlBool>`(${leading}(${sql.join(
    alternatives.map((alternative) => sql`(${alternative})`),
    sql` or `,
  )}))`;
}

export function orderByKeys(keys: readonly SortKey[]): RawBuilder<unknown> {
  return sql.join(keys.map((key) => (key.direction === 'asc' ? sql`${key.expression} asc` : sql`${key.expression} desc`)));
}
