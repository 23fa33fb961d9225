import { Logger as HiveLogger } from '@graphql-hive/logger';
import {
  composeAnnotatedSubgraphs,
  getAnnotatedSubgraphs,
  getComposedResultFromConfig,
  type LoaderContext,
  loadGraphQLHTTPSubgraph,
  type MeshComposeCLISourceHandlerDef,
} from '@graphql-mesh/compose-cli';
import { loadOpenAPISubgraph } from '@omnigraph/openapi';
import { type GraphQLSchema, parse, print } from 'graphql';
import { CompositionError, SubgraphSdlError, subgraphSdl } from './compose.ts';
import type { GatewayPlan } from './subgraphs.ts';

const SOURCE_LOAD_TIMEOUT_MS = 30_000;

const oneLine = (text: string) => text.replace(/\s*\n\s*/g, ' ');

/**
 * Composes Federation subgraphs with sources that are not subgraphs (OpenAPI, plain GraphQL),
 * with GraphQL Mesh's composition: each source becomes a subgraph (`@omnigraph/openapi`, Mesh's
 * GraphQL loader), and `joins` extends the composed types with fields that a source resolves
 * (`@resolveTo`). The result is a supergraph that Hive Gateway's runtime serves with its http
 * and rest transports.
 *
 * Mesh's compose CLI ends the process on a loading or composition error; so everything that can
 * fail is done here first, with the errors Masthead reports (one per line, exit 2, or one line,
 * exit 1), and the CLI's function is only handed what already composes.
 */
export async function composeWithMesh(plan: GatewayPlan): Promise<string> {
  // Federation subgraphs: their SDL as Masthead fetches it (with its timeouts and messages),
  // handed to Mesh's loader through the fetch it is given, instead of it asking again.
  const sdlByUrl = new Map<string, string>();
  await Promise.all(
    plan.subgraphs.map(async (subgraph) => {
      sdlByUrl.set(subgraph.url, print(await subgraphSdl(subgraph)));
    }),
  );
  const fetchForLoaders = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.toString() : input.url;
    const sdl = sdlByUrl.get(url);
    if (sdl !== undefined) return Response.json({ data: { _service: { sdl } } });
    return fetch(input, { ...init, signal: init?.signal ?? AbortSignal.timeout(SOURCE_LOAD_TIMEOUT_MS) });
  }) as LoaderContext['fetch'];
  const logger = new HiveLogger({ level: false });
  const context: LoaderContext = { fetch: fetchForLoaders, cwd: process.cwd(), logger: logger as unknown as LoaderContext['logger'] };

  const handlers: Array<{ name: string; describe: string; handler: MeshComposeCLISourceHandlerDef }> = [
    ...plan.subgraphs.map((subgraph) => ({
      name: subgraph.name,
      describe: `the "${subgraph.name}" subgraph at ${subgraph.url}`,
      handler: loadGraphQLHTTPSubgraph(subgraph.name, { endpoint: subgraph.url, federation: true }),
    })),
    ...plan.sources.map((source) => ({
      name: source.name,
      describe: `the "${source.name}" ${source.kind === 'openapi' ? 'OpenAPI source from' : 'GraphQL source at'} ${source.location}`,
      handler:
        source.kind === 'openapi'
          ? loadOpenAPISubgraph(source.name, { source: source.location, ...(source.endpoint ? { endpoint: source.endpoint } : {}) })
          : loadGraphQLHTTPSubgraph(source.name, { endpoint: source.location }),
    })),
  ];
  const loaded: Array<{ name: string; schema: GraphQLSchema }> = await Promise.all(
    handlers.map(async ({ describe, handler }) => {
      try {
        const { name, schema$ } = handler(context);
        return { name, schema: await schema$ };
      } catch (error) {
        throw new SubgraphSdlError(`cannot compose: ${describe} cannot be loaded: ${oneLine((error as Error).message)}`);
      }
    }),
  );

  // Mesh's semantic conventions guess entity keys from field names (a REST `text` field became a
  // key); the joins say how sources meet the graph instead.
  const composed = composeAnnotatedSubgraphs(getAnnotatedSubgraphs(loaded, { ignoreSemanticConventions: true }));
  if (composed.errors?.length) {
    throw new CompositionError(
      composed.errors.map((error) => `${typeof error.extensions?.code === 'string' ? `${error.extensions.code}: ` : ''}${oneLine(error.message)}`),
    );
  }
  if (plan.joins !== null) {
    try {
      parse(plan.joins);
    } catch (error) {
      throw new CompositionError([`JOINS_INVALID: the joins do not parse: ${oneLine((error as Error).message)}`]);
    }
  }
  const result = await getComposedResultFromConfig(
    {
      subgraphs: loaded.map(({ name, schema }) => ({ sourceHandler: () => ({ name, schema$: schema }) })),
      ...(plan.joins !== null ? { additionalTypeDefs: plan.joins } : {}),
      ignoreSemanticConventions: true,
      fetch: fetchForLoaders,
    },
    logger as unknown as LoaderContext['logger'],
  );
  return result.supergraphSdl;
}

/** Where each subgraph of a Mesh supergraph is called, and by which transport: `{ reviews: { kind: 'rest', location: … } }`. */
export function transportsOf(supergraphSdl: string): Map<string, { kind: string; location: string }> {
  const transports = new Map<string, { kind: string; location: string }>();
  for (const match of supergraphSdl.matchAll(/\{subgraph: "([^"]+)", kind: "([^"]+)", location: "([^"]+)"/g)) {
    const [, name, kind, location] = match;
    if (name && kind && location) transports.set(name, { kind, location });
  }
  return transports;
}
