// Writes the printed SDL of the Pothos schema (checked by the test suite): the public graph to
// schema/schema.graphql, and the Federation subgraph SDL that `_service { sdl }` serves to
// schema/subgraph.graphql.
import { writeFileSync } from 'node:fs';
import { printSubgraphSchema } from '@apollo/subgraph';
import { printSchema } from 'graphql';
import { subgraphSchema } from '../src/schema/index.ts';
import { schema } from '../src/schema/public-schema.ts';

for (const [file, sdl] of [
  ['schema.graphql', printSchema(schema)],
  ['subgraph.graphql', printSubgraphSchema(subgraphSchema)],
] as const) {
  const target = new URL(`../schema/${file}`, import.meta.url);
  writeFileSync(target, `${sdl}\n`);
  console.log(`wrote ${target.pathname}`);
}
