import { lexicographicSortSchema } from 'graphql';
import { builder } from './builder.ts';
import './index.ts';

/**
 * The public graph that clients program against, printed in schema/schema.graphql: what /graphql
 * serves without Federation's `_service` and `_entities`. Not built by the server (see index.ts).
 */
export const schema = lexicographicSortSchema(builder.toSchema());
