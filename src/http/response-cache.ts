import { createHash } from 'node:crypto';
import { type DocumentNode, type ExecutionResult, getOperationAST } from 'graphql';
import type { Plugin, YogaInitialContext } from 'graphql-yoga';
import { Redis } from 'ioredis';
import type { Context } from '../context.ts';
import type { Logger } from '../logger.ts';
import { readContentState } from '../store/content-version.repository.ts';
import type { Store } from '../store/store.ts';

/** Where cached answers live: this process's memory, or Redis, shared by every instance. */
export interface ResponseStore {
  /** The answer's JSON text, or null when none is kept (or it has expired). */
  get(key: string): Promise<string | null>;
  set(key: string, body: string, ttlMs: number): Promise<void>;
  close(): Promise<void>;
}

/** Answers in this process, the least recently used dropped past `maxEntries`. */
export class MemoryResponseStore implements ResponseStore {
  readonly #entries = new Map<string, { body: string; expiresAt: number }>();

  /** @param maxEntries how many answers to keep. @default 1000 */
  constructor(readonly maxEntries = 1000) {}

  async get(key: string): Promise<string | null> {
    const entry = this.#entries.get(key);
    if (!entry) return null;
    this.#entries.delete(key);
    if (entry.expiresAt <= Date.now()) return null;
    this.#entries.set(key, entry);
    return entry.body;
  }

  async set(key: string, body: string, ttlMs: number): Promise<void> {
    this.#entries.delete(key);
    if (this.#entries.size >= this.maxEntries) this.#entries.delete(this.#entries.keys().next().value as string);
    this.#entries.set(key, { body, expiresAt: Date.now() + ttlMs });
  }

  async close(): Promise<void> {
    this.#entries.clear();
  }
}

/** Answers in Redis, shared by every instance; when Redis cannot be reached, every request is computed (and the log says so). */
export class RedisResponseStore implements ResponseStore {
  readonly #redis: Redis;
  readonly #logger: Logger;
  readonly #prefix: string;
  #lastComplaint = 0;

  /** @param prefix what every key starts with. @default 'masthead:response:' */
  constructor(url: string, logger: Logger, prefix = 'masthead:response:') {
    this.#logger = logger;
    this.#prefix = prefix;
    this.#redis = new Redis(url, {
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
      commandTimeout: 500,
      retryStrategy: (times) => Math.min(times * 200, 5000),
    });
    this.#redis.on('error', (error: Error) => this.#complain(error));
  }

  async get(key: string): Promise<string | null> {
    try {
      return await this.#redis.get(`${this.#prefix}${key}`);
    } catch (error) {
      this.#complain(error);
      return null;
    }
  }

  async set(key: string, body: string, ttlMs: number): Promise<void> {
    try {
      await this.#redis.set(`${this.#prefix}${key}`, body, 'PX', Math.max(1, Math.round(ttlMs)));
    } catch (error) {
      this.#complain(error);
    }
  }

  #complain(error: unknown): void {
    const now = Date.now();
    if (now - this.#lastComplaint < 10_000) return;
    this.#lastComplaint = now;
    const reason = error instanceof Error ? error.message : String(error);
    this.#logger.warn(`Redis is unreachable; responses are not cached until it is back (${reason})`);
  }

  async close(): Promise<void> {
    this.#redis.disconnect();
  }
}

export function createResponseStore(redisUrl: string | null, logger: Logger): ResponseStore {
  return redisUrl === null ? new MemoryResponseStore() : new RedisResponseStore(redisUrl, logger);
}

/** No answer is kept longer than this, whatever else holds. */
const MAX_TTL_MS = 3_600_000;

/**
 * A whole-response cache for queries. Every public answer depends only on the request and on
 * the store's content as the public sees it, which changes in two ways: a write (counted by the
 * store's content version, whoever writes, in whichever process) and the coming of a scheduled
 * piece's time. So an entry is keyed by the content version and lives until the next scheduled
 * publication: after any write or at that moment the request is computed afresh. One statement
 * per request reads both. Mutations and answers with errors are never cached.
 */
export function useResponseCache(store: Store, responses: ResponseStore): Plugin<Context> {
  const isQuery = new WeakMap<DocumentNode, Map<string | null, boolean>>();
  const queryOperation = (document: DocumentNode, operationName: string | null) => {
    let byName = isQuery.get(document);
    if (!byName) {
      byName = new Map();
      isQuery.set(document, byName);
    }
    let query = byName.get(operationName);
    if (query === undefined) {
      query = getOperationAST(document, operationName)?.operation === 'query';
      byName.set(operationName, query);
    }
    return query;
  };

  return {
    onExecute({ args, setResultAndStopExecution }) {
      const operationName = args.operationName ?? null;
      if (!queryOperation(args.document, operationName)) return;
      const context = args.contextValue as Context & YogaInitialContext;
      // Editors and admins may see what the public may not (previews, counts): never shared.
      if (context.viewer.role !== 'anonymous') return;
      let request: string;
      try {
        request = `${context.params.query ?? ''}\u0000${operationName ?? ''}\u0000${JSON.stringify(args.variableValues ?? {})}`;
      } catch {
        // Variables too deep to print (JSON.stringify recurses): not worth keeping; compute afresh.
        return;
      }
      return readContentState(store.db, context.now).then(async (state) => {
        const key = `${state.version}:${createHash('sha256').update(request).digest('base64url')}`;
        const body = await responses.get(key);
        if (body !== null) {
          // Written as it was read: the cached text is the answer, not parsed and printed again.
          setResultAndStopExecution({
            get data() {
              return (JSON.parse(body) as ExecutionResult).data;
            },
            stringify: () => body,
          } as ExecutionResult);
          return;
        }
        const ttlMs = Math.min(MAX_TTL_MS, state.nextPublication === null ? MAX_TTL_MS : Date.parse(state.nextPublication) - Date.parse(context.now));
        return {
          onExecuteDone({ result }) {
            if (Symbol.asyncIterator in result || result.errors?.length || ttlMs <= 0) return;
            void responses.set(key, JSON.stringify(result), ttlMs);
          },
        };
      });
    },
  };
}
