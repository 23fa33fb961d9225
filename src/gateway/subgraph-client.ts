import type { GraphQLFormattedError } from 'graphql';
import type { Subgraph } from './subgraphs.ts';
import type { GraphQLErrorCode } from '../errors/error-codes.ts';

/** A GraphQL request as the gateway sends it to a subgraph. */
export interface SubgraphRequest {
  query: string;
  variables?: Record<string, unknown>;
  operationName?: string;
}

/** A subgraph's GraphQL answer. */
export interface SubgraphResponse {
  data?: Record<string, unknown> | null;
  errors?: GraphQLFormattedError[];
  extensions?: Record<string, unknown>;
}

/** The `extensions.code` of the error that stands in for the part of an answer that a subgraph did not give. */
export type SubgraphFailureCode = Extract<GraphQLErrorCode, 'SUBGRAPH_UNAVAILABLE' | 'SUBGRAPH_TIMEOUT'>;

/** A subgraph gave no GraphQL answer: it could not be reached, it took too long, or it answered something else. */
export class SubgraphFailure extends Error {
  override name = 'SubgraphFailure';
  constructor(
    readonly subgraph: string,
    readonly code: SubgraphFailureCode,
    message: string,
  ) {
    super(message);
  }
}

/** Why a fetch failed, in the words of the socket where there are some (`connect ECONNREFUSED …`). */
function reasonOf(error: unknown): string {
  const cause = error instanceof Error ? error.cause : undefined;
  if (cause instanceof Error && cause.message) return cause.message;
  return error instanceof Error ? error.message : String(error);
}

/**
 * Sends one request to a subgraph and returns its GraphQL answer, whatever the HTTP status (a
 * subgraph such as Masthead answers 503 with a GraphQL error when its store is down). Throws a
 * SubgraphFailure when there is no GraphQL answer within the subgraph's timeout.
 */
export async function askSubgraph(subgraph: Subgraph, request: SubgraphRequest, timeoutMs = subgraph.timeoutMs): Promise<SubgraphResponse> {
  const where = `the "${subgraph.name}" subgraph at ${subgraph.url}`;
  try {
    const response = await fetch(subgraph.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' },
      body: JSON.stringify(request),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (typeof body !== 'object' || body === null || !('data' in body || 'errors' in body)) {
      throw new SubgraphFailure(subgraph.name, 'SUBGRAPH_UNAVAILABLE', `${where} answered HTTP ${response.status} without a GraphQL result`);
    }
    return body as SubgraphResponse;
  } catch (error) {
    if (error instanceof SubgraphFailure) throw error;
    if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
      throw new SubgraphFailure(subgraph.name, 'SUBGRAPH_TIMEOUT', `${where} did not answer within ${timeoutMs} ms`);
    }
    throw new SubgraphFailure(subgraph.name, 'SUBGRAPH_UNAVAILABLE', `${where} is unreachable: ${reasonOf(error)}`);
  }
}
