/**
 * The most keys that one batched statement takes. SQLite refuses a compound SELECT of more than
 * 500 terms (SQLITE_MAX_COMPOUND_SELECT), and a page per parent is a UNION ALL branch per key;
 * SQLite also refuses more than 32,766 parameters in a statement, PostgreSQL more than 65,535,
 * and an IN list is a parameter per key. 500 keys keep every batched statement inside all of
 * these, and a request seldom has more parents than that: it then costs a statement per 500.
 */
export const MAX_KEYS_PER_STATEMENT = 500;

/**
 * `read` over the keys in batches that both stores accept, one statement after another; the rows
 * of all. No keys, no statement (an empty IN list is not SQL).
 */
export async function readInBatches<K, R>(keys: readonly K[], read: (batch: readonly K[]) => Promise<readonly R[]>): Promise<R[]> {
  if (keys.length === 0) return [];
  if (keys.length <= MAX_KEYS_PER_STATEMENT) return [...(await read(keys))];
  const rows: R[] = [];
  for (let start = 0; start < keys.length; start += MAX_KEYS_PER_STATEMENT) {
    rows.push(...(await read(keys.slice(start, start + MAX_KEYS_PER_STATEMENT))));
  }
  return rows;
}
