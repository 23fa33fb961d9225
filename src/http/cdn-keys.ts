import { createHash } from 'node:crypto';
import { defaultFieldResolver, type GraphQLFieldResolver, type GraphQLSchema, getNamedType, isObjectType } from 'graphql';
import { cacheKeys } from '../feed/cache-keys.ts';

/**
 * The server-context field where the listener hands a request's key set to the resolvers (see
 * recordCacheKeys). Absent (no recording, no cost beyond a property read) except on the GETs
 * whose answers a CDN may keep.
 */
export const CACHE_KEYS = 'mastheadCacheKeys';

type Recorded = { [CACHE_KEYS]?: Set<string> };
type Entity = 'Article' | 'Issue' | 'Author';
const ENTITIES: ReadonlySet<string> = new Set<Entity>(['Article', 'Issue', 'Author']);
const entityKey = (type: Entity, id: number) => (type === 'Article' ? cacheKeys.article(id) : type === 'Issue' ? cacheKeys.issue(id) : cacheKeys.author(id));

/** List keys that a root or entity field's answer depends on, besides the entities in it. */
function listKeys(parentType: string, field: string, parent: unknown, result: unknown): string[] {
  const parentId = (parent as { id?: unknown } | null)?.id;
  if (parentType === 'Query') {
    switch (field) {
      case 'articles':
        return [cacheKeys.allArticles];
      case 'search':
        return [cacheKeys.search];
      case 'issues':
      case 'latestIssue':
        return [cacheKeys.issues];
      case 'authors':
        return [cacheKeys.authors];
      // What a scheduled piece's publication may add: a promoted newsletter comes with its piece.
      case 'newsletters':
        return [cacheKeys.allArticles];
      // A lookup that found nothing may find something once a piece is published.
      case 'article':
        return result == null ? [cacheKeys.allArticles] : [];
      case 'issue':
        return result == null ? [cacheKeys.issues] : [];
      case 'author':
        return result == null ? [cacheKeys.authors] : [];
      case 'node':
      case 'nodes':
      case '_entities':
        return [cacheKeys.allArticles, cacheKeys.issues, cacheKeys.authors];
      default:
        return [];
    }
  }
  if (typeof parentId !== 'number') return [];
  if (parentType === 'Issue' && (field === 'articles' || field === 'articleCount' || field === 'contributors')) return [cacheKeys.issueArticles(parentId)];
  if (parentType === 'Author' && field !== 'slug' && field !== 'name') return [cacheKeys.authorArticles(parentId)];
  return [];
}

function recordEntities(keys: Set<string>, type: Entity, value: unknown): void {
  if (Array.isArray(value)) {
    for (const item of value) recordEntities(keys, type, item);
    return;
  }
  const id = (value as { id?: unknown } | null)?.id;
  if (typeof id === 'number') keys.add(entityKey(type, id));
}

const wrapped = new WeakSet<GraphQLSchema>();

/** Fields of an entity whose answers depend on the entity's list (see listKeys). */
const LIST_FIELDS: Readonly<Record<string, ReadonlySet<string>>> = {
  Issue: new Set(['articles', 'articleCount', 'contributors']),
  Author: new Set(['articles', 'articleCount', 'firstPublishedAt', 'lastPublishedAt']),
};

/** The entity that a global id (or a federation representation's id) names, if it names one. */
function entityOfId(id: unknown): [Entity, number] | null {
  if (typeof id !== 'string' || id.length > 200) return null;
  const match = /^(Article|Issue|Author):([1-9][0-9]{0,15})$/.exec(Buffer.from(id, 'base64').toString('utf8'));
  return match?.[1] && match[2] ? [match[1] as Entity, Number(match[2])] : null;
}

/**
 * Wraps (once, in place) the resolvers that an answer's keys come from, so that on a request
 * whose context carries a key set each records what its answer depends on: an entity key for
 * every piece, issue and author a field returns, and the list keys of the lists it reads (see
 * listKeys). Resolvers are the one place that sees every entity of an answer, whatever the query
 * selects (an answer's JSON may hold no id at all), under both executors (graphql-js and
 * graphql-jit read the same resolvers). Entities reached through an abstract type (`node`,
 * `_entities`) are named by the ids asked for. Scalar fields are left alone: graphql-jit reads
 * a property directly where a field has no resolver, and wrapping them would cost every field.
 */
export function recordCacheKeys(schema: GraphQLSchema): GraphQLSchema {
  if (wrapped.has(schema)) return schema;
  wrapped.add(schema);
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    const parentType = type.name;
    for (const field of Object.values(type.getFields())) {
      const returned = getNamedType(field.type).name;
      const returnsEntity = ENTITIES.has(returned);
      if (!returnsEntity && parentType !== 'Query' && !LIST_FIELDS[parentType]?.has(field.name)) continue;
      const resolve: GraphQLFieldResolver<unknown, unknown> = field.resolve ?? defaultFieldResolver;
      const record = (keys: Set<string>, parent: unknown, args: Record<string, unknown>, result: unknown) => {
        if (returnsEntity) recordEntities(keys, returned as Entity, result);
        for (const key of listKeys(parentType, field.name, parent, result)) keys.add(key);
        if (parentType !== 'Query') return;
        const asked = field.name === 'node' ? [args.id] : field.name === 'nodes' && Array.isArray(args.ids) ? args.ids : [];
        if (field.name === '_entities' && Array.isArray(args.representations)) {
          for (const representation of args.representations) asked.push((representation as { id?: unknown } | null)?.id);
        }
        for (const id of asked) {
          const entity = entityOfId(id);
          if (entity) keys.add(entityKey(...entity));
        }
      };
      field.resolve = (parent, args, context, info) => {
        const result = resolve(parent, args, context, info);
        const keys = (context as Recorded | null)?.[CACHE_KEYS];
        if (keys === undefined) return result;
        if (result instanceof Promise) {
          return result.then((value) => {
            record(keys, parent, args, value);
            return value;
          });
        }
        record(keys, parent, args, result);
        return result;
      };
    }
  }
  return schema;
}

const TYPE_OF_KEY: ReadonlyArray<[RegExp, Entity]> = [
  [/^article-\d+$/, 'Article'],
  [/^issue-\d+(?:-articles)?$/, 'Issue'],
  [/^author-\d+(?:-articles)?$/, 'Author'],
];

/**
 * The keys an answer carries, space-separated (Surrogate-Key) and comma-separated (Cache-Tag).
 * Past `maxBytes` the entity keys give way to their types' keys (`type-Article`…), which every
 * feed entry touching that type purges: a long answer is purged more often, never too rarely.
 */
export function cdnKeyHeaders(keys: ReadonlySet<string>, maxBytes: number): { 'surrogate-key': string; 'cache-tag': string } | null {
  if (keys.size === 0) return null;
  let list = [...keys].sort();
  if (list.join(' ').length > maxBytes) {
    const fallback = new Set<string>();
    for (const key of list) {
      const type = TYPE_OF_KEY.find(([pattern]) => pattern.test(key))?.[1];
      fallback.add(type ? cacheKeys.type(type) : key);
    }
    list = [...fallback].sort();
  }
  return { 'surrogate-key': list.join(' '), 'cache-tag': list.join(',') };
}

/** A strong ETag for an answer's bytes. */
export function etagOf(body: Buffer): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
}

/** Whether an If-None-Match header names this ETag (weak comparison, as RFC 9110 asks for If-None-Match; `*` matches). */
export function ifNoneMatch(header: string | undefined, etag: string): boolean {
  if (header === undefined || header.length > 8192) return false;
  for (const part of header.split(',')) {
    const tag = part.trim().replace(/^W\//, '');
    if (tag === '*' || tag === etag) return true;
  }
  return false;
}
