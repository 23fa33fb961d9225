// Apollo Server with a DataLoader per batched field and request, over Masthead's schema and the
// same statements: the most common choice. Served on node:http as its standalone server does,
// less CORS and body-parser.
import { createServer } from 'node:http';
import { ApolloServer, HeaderMap } from '@apollo/server';
import DataLoader from 'dataloader';
import { batchedFields, type BatchedField, type PeerContext, rootResolvers, TYPE_DEFS } from './graph.ts';
import { HOST, openPeerStore, PORT, readBody, serveMetrics, socketAddress } from './common.ts';

interface ApolloContext extends PeerContext {
  loaders: Map<string, DataLoader<{ id: number }, unknown>>;
}

function loaderFor(ctx: ApolloContext, definition: BatchedField<never>, args: Record<string, unknown>) {
  const key = `${definition.shared}:${JSON.stringify(args)}`;
  let loader = ctx.loaders.get(key);
  if (!loader) {
    loader = new DataLoader((parents) => definition.batch(parents as never[], args, ctx), { cacheKeyFn: (parent) => parent.id });
    ctx.loaders.set(key, loader);
  }
  return loader;
}

const resolvers: Record<string, Record<string, unknown>> = { ...rootResolvers };
for (const [type, fields] of Object.entries(batchedFields)) {
  resolvers[type] = { ...resolvers[type] };
  for (const [field, definition] of Object.entries(fields)) {
    resolvers[type][field] = async (parent: { id: number }, args: Record<string, unknown>, ctx: ApolloContext) => {
      const value = await loaderFor(ctx, definition, args).load(parent);
      return definition.pick ? definition.pick(value) : value;
    };
  }
}

const store = openPeerStore();
const server = new ApolloServer<ApolloContext>({ typeDefs: TYPE_DEFS, resolvers: resolvers as never });
await server.start();

createServer(async (req, res) => {
  if (serveMetrics(store, req, res)) return;
  try {
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    const text = await readBody(req);
    const response = await server.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: req.method ?? 'GET', headers, search: '', body: text === '' ? undefined : JSON.parse(text) },
      context: async () => ({
        store,
        now: new Date().toISOString(),
        client: { address: socketAddress(req.socket.remoteAddress), userAgent: req.headers['user-agent'] ?? null },
        loaders: new Map(),
      }),
    });
    for (const [key, value] of response.headers) res.setHeader(key, value);
    res.statusCode = response.status ?? 200;
    if (response.body.kind === 'complete') {
      res.end(response.body.string);
      return;
    }
    for await (const chunk of response.body.asyncIterator) res.write(chunk);
    res.end();
  } catch (error) {
    console.error(error);
    res.writeHead(500).end();
  }
}).listen(PORT, HOST);
