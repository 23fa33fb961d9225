import type { Compilable, CompiledQuery, Kysely } from 'kysely';
import type { Database } from './database.ts';

/** Stands for the value at `index` while a statement is built; a parameter of the compiled statement. */
class Slot {
  constructor(readonly index: number) {}
}

/** Past this many shapes a dialect's statements are compiled afresh (a shape is a statement and, say, its IN list's length). */
const MAX_SHAPES = 2000;

// Compiled SQL depends on the dialect only: kept per dialect adapter, which a store's
// transactions share with it.
const compiledByAdapter = new WeakMap<object, Map<string, CompiledQuery>>();

/** Gives the build the stand-in for value number `index`; typed as the value it stands for. */
export type ValueAt = <T>(index: number) => T;

/** Gives the build the stand-ins for `count` values from number `from` on: an IN list's, a cursor's. */
export type ValuesFrom = <T>(from: number, count: number) => T[];

/** Past this many statement texts, further ones are not named (see preparedStatementName). */
const MAX_NAMED = 5000;
const names = new Map<string, string>();

/**
 * The name under which PostgreSQL keeps a compiled statement prepared, one per connection: its
 * text is parsed and planned once per connection instead of on every run (Kysely's statements are
 * unnamed otherwise). Only compiled statements are named, so the texts are few and fixed; undefined
 * for any other text. Names are never reused for another text, as node-postgres requires.
 */
export function preparedStatementName(text: string): string | undefined {
  return names.get(text);
}

function nameStatement(text: string): void {
  if (names.size < MAX_NAMED && !names.has(text)) names.set(text, `masthead_${names.size + 1}`);
}

const slot: ValueAt = <T>(index: number) => new Slot(index) as T;
const slots: ValuesFrom = <T>(from: number, count: number) => Array.from({ length: count }, (_, offset) => slot<T>(from + offset));

/**
 * Runs a hot statement without building it again: Kysely builds and compiles it once per `shape`
 * (its name and whatever changes its SQL text: the length of an IN list, whether a cursor is
 * given), with stand-ins for its values; later runs of that shape only put `values` in their
 * place. Building and compiling costs a page read about as much CPU as SQLite takes to answer
 * it. The build must not look at the values: anything that changes the SQL belongs in `shape`.
 */
export async function runCompiled<Row>(
  db: Kysely<Database>,
  shape: string,
  values: readonly unknown[],
  build: (value: ValueAt, values: ValuesFrom) => Compilable<Row>,
): Promise<Row[]> {
  const adapter = db.getExecutor().adapter;
  let shapes = compiledByAdapter.get(adapter);
  if (shapes === undefined) {
    shapes = new Map();
    compiledByAdapter.set(adapter, shapes);
  }
  let compiled = shapes.get(shape);
  if (compiled === undefined) {
    compiled = build(slot, slots).compile();
    nameStatement(compiled.sql);
    if (shapes.size >= MAX_SHAPES) shapes.clear();
    shapes.set(shape, compiled);
  }
  const parameters = compiled.parameters.map((parameter) => (parameter instanceof Slot ? values[parameter.index] : parameter));
  const result = await db.executeQuery<Row>({ ...compiled, parameters });
  return result.rows;
}
