import { GraphQLError, type ASTNode } from 'graphql';
import { GRAPHQL_ERROR_CODES, type GraphQLErrorCode } from './error-codes.ts';

export interface CodedErrorOptions {
  /** The HTTP status; the catalogue's for the code unless given (an automatic persisted query's miss is a 200). */
  status?: number;
  /** Response headers that go with the error (`Retry-After`, `WWW-Authenticate`). */
  headers?: Record<string, string>;
  /** More extensions beside `code` (the query's `cost`). */
  extensions?: Record<string, unknown>;
  nodes?: ReadonlyArray<ASTNode> | ASTNode | null;
  path?: ReadonlyArray<string | number>;
}

/**
 * The one way to make a GraphQL error meant for clients: `extensions.code` from the catalogue,
 * and its HTTP status (from the catalogue unless given) in `extensions.http`, which Yoga turns
 * into the response's status and strips from the body.
 */
export function codedError(code: GraphQLErrorCode, message: string, options: CodedErrorOptions = {}): GraphQLError {
  const status = options.status ?? GRAPHQL_ERROR_CODES[code].status;
  const http = status === null ? undefined : { status, ...(options.headers ? { headers: options.headers } : {}) };
  return new GraphQLError(message, {
    nodes: options.nodes,
    path: options.path,
    extensions: { code, ...options.extensions, ...(http ? { http } : {}) },
  });
}
