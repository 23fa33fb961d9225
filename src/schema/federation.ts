import { type GraphQLFieldResolver, type GraphQLSchema, isUnionType } from 'graphql';
import type { Context } from '../context.ts';
import { builder } from './builder.ts';
import { decodeGlobalID, isIssuedId } from './global-id.ts';
import { codedError } from '../errors/coded-error.ts';
import { localId } from './refs.ts';

/** The Federation spec that the subgraph SDL links to: fixed here so that the printed SDL only changes on purpose. */
export const FEDERATION_SPEC = 'https://specs.apollo.dev/federation/v2.6';

/** The keys of the entities: the global `id`, and the natural keys. */
export const ID_KEY = builder.selection<{ id: string }>('id');
export const SLUG_KEY = builder.selection<{ slug: string }>('slug');
export const NUMBER_KEY = builder.selection<{ number: number }>('number');

/** A key other than `id` that names one entity: a slug, or an issue's number. */
export type NaturalKey<T> = { field: 'slug'; load: (slug: string) => Promise<T | null> } | { field: 'number'; load: (number: number) => Promise<T | null> };

/**
 * A value from a representation, short enough to quote in an error. Lists and objects are named,
 * not printed: printing recurses, and a value nested thousands deep would exhaust the stack.
 */
function quote(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.slice(0, 100));
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object' && value !== null) return 'an object';
  return String(value);
}

/**
 * The entity that a router's representation names, by its global `id` or its natural key, through
 * the request's loaders, so that every representation of a type costs one statement together.
 * An unknown key gives null, as the contract says: a string that is no id this API issued, an id
 * of another type, a key that names nothing public. A representation that cannot be a key at all
 * (no key field, a key that is not a string) is a BAD_USER_INPUT error in its own slot. Async on purpose:
 * a mistake must reject this representation's promise, not throw through `_entities` as a whole.
 */
export async function resolveRepresentation<T>(
  typename: string,
  representation: object,
  byId: (id: number) => Promise<T | null>,
  natural: NaturalKey<T>,
): Promise<T | null> {
  const fields = representation as Record<string, unknown>;
  if (fields.id !== undefined) {
    if (typeof fields.id !== 'string') throw codedError('BAD_USER_INPUT', `A ${typename} representation's id must be a string, got ${quote(fields.id)}`);
    if (!isIssuedId(fields.id)) return null;
    const id = localId(decodeGlobalID(fields.id), typename);
    return id === null ? null : byId(id);
  }
  const value = fields[natural.field];
  if (value === undefined) throw codedError('BAD_USER_INPUT', `A ${typename} representation needs its "id" or "${natural.field}"`);
  if (natural.field === 'slug') {
    if (typeof value !== 'string') throw codedError('BAD_USER_INPUT', `A ${typename} representation's slug must be a string, got ${quote(value)}`);
    return natural.load(value);
  }
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw codedError('BAD_USER_INPUT', `A ${typename} representation's number must be a whole number, got ${quote(value)}`);
  }
  return natural.load(value);
}

/**
 * `_entities` as @apollo/subgraph resolves it fails every slot at once, with an internal error, when
 * one representation is not an object or names a type that is not an entity here (such as
 * NewsletterSubscription). Such a representation becomes a BAD_USER_INPUT error in its own slot;
 * the others resolve together as before.
 */
export function refuseNonEntities(schema: GraphQLSchema): GraphQLSchema {
  const field = schema.getQueryType()?.getFields()._entities;
  const union = schema.getType('_Entity');
  const resolve = field?.resolve as GraphQLFieldResolver<unknown, Context, { representations: unknown[] }> | undefined;
  if (!field || !resolve || !isUnionType(union)) throw new Error('the subgraph schema has no _entities field to guard');
  const entities = new Set(union.getTypes().map((type) => type.name));
  const names = [...entities].sort().join(', ');
  field.description = `The entities that a federation router asks for by their keys (${names}), one for each representation, in order: null for a key that names nothing you may read. For routers, not for clients.`;
  const service = schema.getQueryType()?.getFields()._service;
  if (service)
    service.description =
      "This subgraph's SDL, for a federation router composing the supergraph. Refused to callers without an API key when INTROSPECTION is off.";
  field.resolve = (source, args: { representations: unknown[] }, context: Context, info) =>
    args.representations.map((representation) => {
      const typename = typeof representation === 'object' && representation !== null ? (representation as { __typename?: unknown }).__typename : undefined;
      if (typeof typename !== 'string' || !entities.has(typename)) {
        return codedError('BAD_USER_INPUT', `A representation must name an entity type of this subgraph (${names}), got __typename ${quote(typename)}`);
      }
      return (resolve(source, { representations: [representation] }, context, info) as unknown[])[0];
    });
  return schema;
}
