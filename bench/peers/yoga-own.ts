// Yoga's engine serving the app a user would write instead of Masthead (own-app.ts, the app
// the Mercurius peer serves: its schema, resolvers, DataLoaders and SQL), behind a bare
// node:http handler with graphql-jit, as Masthead's listener drives Yoga. Beside the Mercurius
// peer it shows what the engine alone costs on the same app: a ratio Masthead, which keeps
// Yoga as its engine, cannot beat on that workload whatever its own code does.
import { createSchema, createYoga } from 'graphql-yoga';
import { useCompiledExecution } from '../../src/compiled-execution.ts';
import { type BareClient, serveBareYoga } from './bare-yoga.ts';
import { type Context, createRequestContext, resolvers, schema, statementsSent } from './own-app.ts';

const yoga = createYoga<BareClient, Context>({
  schema: createSchema<BareClient & Context>({ typeDefs: schema, resolvers: resolvers as never }),
  logging: false,
  context: (client) => createRequestContext({ address: client.address ?? '', userAgent: client.userAgent }),
  plugins: [useCompiledExecution()],
});
await serveBareYoga(yoga, () => `# TYPE masthead_store_queries_total counter\nmasthead_store_queries_total ${statementsSent()}\n`);
