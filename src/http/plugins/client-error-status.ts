import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

function withClientErrorStatus(error: GraphQLError): GraphQLError {
  const http = error.extensions?.http as { spec?: boolean; status?: number } | undefined;
  if (!http?.spec) return error;
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions: { ...error.extensions, http: { ...http, spec: false, status: http.status ?? 400 } },
  });
}

/**
 * A request that is malformed (no query, a query that does not parse or validate) gets a 4xx
 * whatever the client accepts. By default the GraphQL-over-HTTP spec answers such requests with
 * 200 when the client accepts only `application/json`; our contract promises a 4xx.
 */
export function useClientErrorStatus(): Plugin {
  return {
    onResultProcess({ result, setResult }) {
      if (Array.isArray(result) || !('errors' in result) || !result.errors?.length) return;
      if (!result.errors.some((error) => (error.extensions?.http as { spec?: boolean } | undefined)?.spec)) return;
      setResult({ ...result, errors: result.errors.map((error) => withClientErrorStatus(error as GraphQLError)) });
    },
  };
}
