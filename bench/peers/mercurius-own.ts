// Mercurius (Fastify) + graphql-jit serving the app a user would write instead of Masthead
// (own-app.ts: its own schema, resolvers, DataLoaders and SQL).
import Fastify from 'fastify';
import mercurius from 'mercurius';
import { createRequestContext, resolvers, schema, statementsSent } from './own-app.ts';

const PORT = Number(process.env.PORT ?? 4100);
const HOST = process.env.HOST ?? '127.0.0.1';

const app = Fastify({ logger: false });
await app.register(mercurius, {
  schema,
  resolvers: resolvers as never,
  jit: 1,
  context: (request) => createRequestContext({ address: request.ip, userAgent: request.headers['user-agent'] ?? null }),
});
app.get('/metrics', async (_request, reply) =>
  reply.type('text/plain; version=0.0.4').send(`# TYPE masthead_store_queries_total counter\nmasthead_store_queries_total ${statementsSent()}\n`),
);
await app.listen({ port: PORT, host: HOST });
