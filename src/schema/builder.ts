import SchemaBuilder from '@pothos/core';
import DirectivesPlugin from '@pothos/plugin-directives';
import FederationPlugin from '@pothos/plugin-federation';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import type { Context } from '../context.ts';
import { decodeGlobalID } from './global-id.ts';
import { codedError } from '../errors/coded-error.ts';

export const builder = new SchemaBuilder<{
  Context: Context;
  Scalars: {
    DateTime: { Input: string; Output: string };
    Date: { Input: string; Output: string };
  };
  DefaultFieldNullability: false;
  DefaultEdgesNullability: false;
  DefaultNodeNullability: false;
  Connection: { totalCount: () => Promise<number> };
  AuthScopes: { editor: boolean; admin: boolean };
}>({
  plugins: [ScopeAuthPlugin, DirectivesPlugin, RelayPlugin, FederationPlugin],
  scopeAuth: {
    // Roles come from the request's API key: admins hold every editor's scope too.
    authScopes: (context) => ({ editor: context.viewer.role !== 'anonymous', admin: context.viewer.role === 'admin' }),
    unauthorizedError: (_parent, _context, info) =>
      codedError('FORBIDDEN', `${info.parentType.name}.${info.fieldName} needs an editor's or admin's API key with that right.`),
  },
  defaultFieldNullability: false,
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    nodesQueryOptions: false,
    decodeGlobalID,
    nodeTypeOptions: { description: 'An object with an opaque global id; `Query.node` resolves every one of them.' },
    // Shareable: other Relay-style subgraphs define the same PageInfo, and composition wants that said.
    pageInfoTypeOptions: {
      description: 'Where a page sits in its connection, and the cursors to ask for the next one.',
      shareable: true,
    },
    nodeQueryOptions: {
      description: 'Any object by its global id; null when there is none that you may read.',
      args: { id: { description: 'A global id from any `id` field.' } },
    },
    idFieldOptions: { description: 'An opaque global id.' },
    cursorFieldOptions: { description: 'Pass as `after` to continue after this edge.' },
    hasNextPageFieldOptions: { description: 'Whether more items follow this page.' },
    hasPreviousPageFieldOptions: { description: 'Whether items precede this page (true when `after` was given).' },
    startCursorFieldOptions: { description: 'The cursor of the first edge of the page.' },
    endCursorFieldOptions: { description: 'The cursor of the last edge: pass it as `after` for the next page.' },
    edgesFieldOptions: { nullable: false, description: 'The items of this page, each with its cursor.' },
    nodeFieldOptions: { nullable: false, description: 'The item.' },
    pageInfoFieldOptions: { description: 'Paging information for this page.' },
  },
});

builder.queryType({ description: 'Reading the publication: articles, print issues, authors and newsletters.' });
builder.mutationType({ description: 'Newsletter sign-ups, and (for admins) webhook endpoints.' });
