// Mercurius (Fastify) with graphql-jit and its loaders, over Masthead's schema and the same
// statements: the fastest Node GraphQL server a user would pick instead.
import Fastify from 'fastify';
import mercurius, { type MercuriusLoaders } from 'mercurius';
import { batchedFields, type PeerContext, rootResolvers, TYPE_DEFS } from './graph.ts';
import { HOST, metricsText, openPeerStore, PORT, socketAddress } from './common.ts';

const store = openPeerStore();
const app = Fastify({ logger: false });

// Each of Mercurius' loaders gets every (parent, arguments) of a tick: one batch per distinct arguments.
type Query = { obj: never; params: Record<string, unknown> };
const loaders: Record<string, Record<string, (queries: Query[], ctx: PeerContext) => Promise<unknown[]>>> = {};
for (const [type, fields] of Object.entries(batchedFields)) {
  const typeLoaders: (typeof loaders)[string] = {};
  for (const [field, definition] of Object.entries(fields)) {
    typeLoaders[field] = async (queries, ctx) => {
      const groups = new Map<string, number[]>();
      queries.forEach((query, index) => {
        const key = JSON.stringify(query.params);
        groups.set(key, [...(groups.get(key) ?? []), index]);
      });
      const results: unknown[] = new Array(queries.length);
      await Promise.all(
        [...groups.values()].map(async (indexes) => {
          const values = await definition.batch(
            indexes.map((i) => queries[i]!.obj),
            queries[indexes[0]!]!.params,
            ctx,
          );
          indexes.forEach((queryIndex, j) => {
            results[queryIndex] = definition.pick ? definition.pick(values[j]) : values[j];
          });
        }),
      );
      return results;
    };
  }
  loaders[type] = typeLoaders;
}

await app.register(mercurius, {
  schema: TYPE_DEFS,
  resolvers: rootResolvers as never,
  loaders: loaders as unknown as MercuriusLoaders,
  jit: 1,
  context: (request) => ({
    store,
    now: new Date().toISOString(),
    client: { address: socketAddress(request.socket.remoteAddress), userAgent: request.headers['user-agent'] ?? null },
  }),
});
app.get('/metrics', async (_request, reply) => reply.type('text/plain; version=0.0.4').send(metricsText(store)));
await app.listen({ port: PORT, host: HOST });
