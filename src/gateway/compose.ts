import { readFileSync } from 'node:fs';
import { composeServices } from '@apollo/composition';
import { type DocumentNode, parse } from 'graphql';
import { askSubgraph } from './subgraph-client.ts';
import type { GatewayPlan, Subgraph } from './subgraphs.ts';

/** The subgraphs do not compose; `errors` holds composition's errors, one line each. */
export class CompositionError extends Error {
  override name = 'CompositionError';
  constructor(readonly errors: string[]) {
    super(`the subgraphs do not compose (${errors.length} error${errors.length === 1 ? '' : 's'})`);
  }
}

/** A subgraph's SDL could not be had at start: it did not answer, or what it gave is not a subgraph SDL. */
export class SubgraphSdlError extends Error {
  override name = 'SubgraphSdlError';
}

const SERVICE_SDL_QUERY = 'query SubgraphSdl { _service { sdl } }';

/** A subgraph's SDL: from its schema file when the configuration names one, else from its `_service { sdl }`. */
export async function subgraphSdl(subgraph: Subgraph): Promise<DocumentNode> {
  const where = `the "${subgraph.name}" subgraph`;
  let sdl: unknown;
  if (subgraph.schemaFile !== null) {
    try {
      sdl = readFileSync(subgraph.schemaFile, 'utf8');
    } catch (error) {
      throw new SubgraphSdlError(`cannot read the schema of ${where} from ${subgraph.schemaFile}: ${(error as Error).message}`);
    }
  } else {
    const response = await askSubgraph(subgraph, { query: SERVICE_SDL_QUERY }).catch((error: unknown) => {
      throw new SubgraphSdlError(`cannot compose: ${(error as Error).message}`);
    });
    sdl = (response.data?._service as { sdl?: unknown } | undefined)?.sdl;
    if (typeof sdl !== 'string') {
      const reason = response.errors?.[0]?.message ?? 'no _service { sdl }';
      throw new SubgraphSdlError(`cannot compose: ${where} at ${subgraph.url} is not a Federation subgraph (${reason})`);
    }
  }
  try {
    return parse(sdl as string);
  } catch (error) {
    throw new SubgraphSdlError(`cannot compose: the SDL of ${where} does not parse: ${(error as Error).message}`);
  }
}

/**
 * Fetches every subgraph's SDL and composes them with Apollo's composition into a supergraph SDL,
 * the same one that Apollo Router or Hive Gateway would load. Throws SubgraphSdlError when an SDL
 * cannot be had, CompositionError when they do not compose.
 */
export async function composeSupergraph(plan: GatewayPlan): Promise<string> {
  if (plan.sources.length > 0 || plan.joins !== null) {
    // Sources that are not subgraphs need GraphQL Mesh's composition: loaded only for them.
    const { composeWithMesh } = await import('./compose-mesh.ts');
    return composeWithMesh(plan);
  }
  const { subgraphs } = plan;
  const services = await Promise.all(subgraphs.map(async (subgraph) => ({ name: subgraph.name, url: subgraph.url, typeDefs: await subgraphSdl(subgraph) })));
  const result = composeServices(services);
  if (result.errors) {
    throw new CompositionError(
      result.errors.map((error) => {
        const code = typeof error.extensions.code === 'string' ? `${error.extensions.code}: ` : '';
        return `${code}${error.message.replace(/\s*\n\s*/g, ' ')}`;
      }),
    );
  }
  return result.supergraphSdl;
}
