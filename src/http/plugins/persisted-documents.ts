import { usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations';
import type { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { LRUCache } from 'lru-cache';
import { codedError } from '../../errors/coded-error.ts';
import type { GraphQLErrorCode } from '../../errors/error-codes.ts';
import { sha256Hex } from '../../digest.ts';
import { HASH, type Manifest } from '../trusted-documents.ts';

function refuse(message: string, code: GraphQLErrorCode, status?: number): GraphQLError {
  return codedError(code, message, status === undefined ? {} : { status });
}

interface PersistedParams {
  query?: string;
  documentId?: unknown;
  extensions?: { persistedQuery?: { version?: unknown; sha256Hash?: unknown } } & Record<string, unknown>;
}

/** The hash a request names its document by (`documentId`, or the APQ extension's `sha256Hash`); refuses a malformed one. */
function namedHash(params: PersistedParams): string | undefined {
  const announced = params.extensions?.persistedQuery?.sha256Hash;
  if (announced !== undefined && typeof announced !== 'string')
    throw refuse('extensions.persistedQuery.sha256Hash must be a string.', 'PERSISTED_QUERY_INVALID');
  const named = typeof params.documentId === 'string' ? params.documentId : announced;
  if (named === undefined) return undefined;
  const hash = HASH.exec(named)?.[1];
  if (hash === undefined) throw refuse('A persisted document is named by its SHA-256 hash in hex.', 'PERSISTED_QUERY_INVALID');
  return hash;
}

/** Documents registered by automatic persisted queries: at most this many characters in all, the least recently used going first. */
const REGISTERED_BUDGET = 4 * 1024 * 1024;

/** Yoga's GET parser reads query, operationName, variables and extensions only: a GET names its document by `documentId` in the query string too. */
const documentIdOfGet: Plugin = {
  onRequestParse({ request, url }) {
    if (request.method !== 'GET') return;
    const documentId = url.searchParams.get('documentId');
    if (!documentId) return;
    return {
      onRequestParseDone({ requestParserResult, setRequestParserResult }) {
        if (!Array.isArray(requestParserResult)) setRequestParserResult({ ...requestParserResult, documentId } as typeof requestParserResult);
      },
    };
  },
};

/**
 * Trusted documents through @graphql-yoga/plugin-persisted-operations: only the operations of the
 * manifest run for anonymous callers, named by `documentId` or by the APQ hash; API-key holders may
 * still send any query (the key itself is checked later, as on every request).
 */
function useTrustedDocuments(manifest: Manifest): Plugin {
  const onlyTrusted = () => refuse('Only trusted documents run here: send a documentId from the manifest.', 'PERSISTED_QUERY_ONLY');
  return usePersistedOperations({
    allowArbitraryOperations: (request) => request.headers.has('authorization'),
    extractPersistedOperationId: (params) => namedHash(params as PersistedParams) ?? null,
    getPersistedOperation: (hash) => manifest.get(hash) ?? null,
    customErrors: {
      notFound: () => refuse('This document is not in the trusted documents manifest.', 'PERSISTED_QUERY_NOT_FOUND'),
      persistedQueryOnly: onlyTrusted,
      keyNotFound: ({ request }) =>
        request.headers.has('authorization') ? refuse('The request names no document: send a query or a documentId.', 'BAD_REQUEST') : onlyTrusted(),
    },
  });
}

/**
 * Automatic persisted queries (Apollo's protocol): a client sends the hash alone, and the query
 * along once the server answers that it does not know it, so queries can travel as short,
 * cacheable GET URLs. Written here rather than with @graphql-yoga/plugin-apq (3.6): that plugin
 * answers an unknown hash with a 404 unless told to answer every APQ error with a 200 (a hash
 * that does not match its query included, which the contract makes a 400), and its store is
 * bounded by count, not by bytes.
 */
function useAutomaticPersistedQueries(): Plugin {
  const registered = new LRUCache<string, string>({ maxSize: REGISTERED_BUDGET, sizeCalculation: (document, hash) => document.length + hash.length });
  return {
    onParams({ params, setParams }) {
      const persisted = params as PersistedParams;
      const hash = namedHash(persisted);
      if (hash === undefined) return;
      if (typeof persisted.query === 'string') {
        if (sha256Hex(persisted.query) !== hash)
          throw refuse('The query does not match extensions.persistedQuery.sha256Hash.', 'PERSISTED_QUERY_HASH_MISMATCH');
        registered.set(hash, persisted.query);
        return;
      }
      const document = registered.get(hash);
      // Apollo's clients look for this message, with a 200, and then send the query along.
      if (document === undefined) throw refuse('PersistedQueryNotFound', 'PERSISTED_QUERY_NOT_FOUND', 200);
      setParams({ ...params, query: document });
    },
  };
}

/** Persisted documents: trusted documents when there is a manifest (TRUSTED_DOCUMENTS), else automatic persisted queries. */
export function usePersistedDocuments(manifest: Manifest | null): Plugin {
  return {
    onPluginInit({ addPlugin }) {
      addPlugin(documentIdOfGet);
      addPlugin(manifest ? useTrustedDocuments(manifest) : useAutomaticPersistedQueries());
    },
  };
}
