import { readFileSync } from 'node:fs';
import type { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { ConfigError } from '../../config.ts';
import { sha256Hex } from '../../digest.ts';
import { codedError } from '../../errors/coded-error.ts';
import type { GraphQLErrorCode } from '../../errors/error-codes.ts';

/** Trusted documents by hash (hex SHA-256 of the document text), as codegen's client preset writes them. */
export type Manifest = ReadonlyMap<string, string>;

const HASH = /^(?:sha256:)?([0-9a-f]{64})$/;

/** Reads a manifest: a JSON object from `sha256:HASH` (or `HASH`) to the document text. */
export function loadManifest(file: string): Manifest {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(`TRUSTED_DOCUMENTS cannot be read as JSON: ${file} (${error instanceof Error ? error.message : String(error)})`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`TRUSTED_DOCUMENTS must hold a JSON object from hashes to documents: ${file}`);
  }
  const manifest = new Map<string, string>();
  for (const [key, document] of Object.entries(parsed)) {
    const hash = HASH.exec(key)?.[1];
    if (!hash || typeof document !== 'string')
      throw new ConfigError(`TRUSTED_DOCUMENTS has an entry that is not "sha256:HASH": "document": ${JSON.stringify(key.slice(0, 80))}`);
    if (sha256Hex(document) !== hash) throw new ConfigError(`TRUSTED_DOCUMENTS entry ${key.slice(0, 80)} does not match its document's hash`);
    manifest.set(hash, document);
  }
  return manifest;
}

function refuse(message: string, code: GraphQLErrorCode, status?: number): GraphQLError {
  return codedError(code, message, status === undefined ? {} : { status });
}

/** A small LRU of documents registered by automatic persisted queries. */
class DocumentCache {
  readonly #entries = new Map<string, string>();
  constructor(readonly capacity: number) {}
  get(hash: string): string | undefined {
    const document = this.#entries.get(hash);
    if (document !== undefined) {
      this.#entries.delete(hash);
      this.#entries.set(hash, document);
    }
    return document;
  }
  set(hash: string, document: string): void {
    this.#entries.delete(hash);
    this.#entries.set(hash, document);
    if (this.#entries.size > this.capacity) this.#entries.delete(this.#entries.keys().next().value as string);
  }
}

interface PersistedParams {
  query?: string;
  documentId?: unknown;
  extensions?: { persistedQuery?: { version?: unknown; sha256Hash?: unknown } } & Record<string, unknown>;
}

/**
 * Persisted documents, two ways. With a manifest (TRUSTED_DOCUMENTS) only the operations it
 * lists run for anonymous callers, named by `documentId` or by the APQ hash; API-key holders may
 * still send any query. Without one, automatic persisted queries (Apollo's protocol): a client
 * sends the hash alone, and the query once when the server does not know it yet, so queries
 * can travel as short, cacheable GET URLs.
 */
export function usePersistedDocuments(manifest: Manifest | null, cacheSize = 1000): Plugin {
  const registered = new DocumentCache(cacheSize);
  return {
    // Yoga's GET parser reads query, operationName, variables and extensions only: a GET names
    // its document by `documentId` in the query string too (the listener reads it itself).
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
    onParams({ params, setParams, request }) {
      const persisted = params as PersistedParams;
      const announced = persisted.extensions?.persistedQuery?.sha256Hash;
      const documentId = typeof persisted.documentId === 'string' ? persisted.documentId : undefined;
      const named = documentId ?? (typeof announced === 'string' ? announced : undefined);
      if (announced !== undefined && typeof announced !== 'string')
        throw refuse('extensions.persistedQuery.sha256Hash must be a string.', 'PERSISTED_QUERY_INVALID');
      const hash = named === undefined ? undefined : HASH.exec(named)?.[1];
      if (named !== undefined && hash === undefined) throw refuse('A persisted document is named by its SHA-256 hash in hex.', 'PERSISTED_QUERY_INVALID');

      if (manifest) {
        if (hash !== undefined) {
          const document = manifest.get(hash);
          if (document === undefined) throw refuse('This document is not in the trusted documents manifest.', 'PERSISTED_QUERY_NOT_FOUND');
          setParams({ ...params, query: document });
          return;
        }
        if (!request.headers.has('authorization')) {
          throw refuse('Only trusted documents run here: send a documentId from the manifest.', 'PERSISTED_QUERY_ONLY');
        }
        return;
      }
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
