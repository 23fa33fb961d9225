import { createHash } from 'node:crypto';
import { type DocumentNode, type ExecutionResult, getOperationAST } from 'graphql';
import type { Plugin, YogaInitialContext } from 'graphql-yoga';
import { Redis } from 'ioredis';
import type { Context } from '../../context.ts';
import type { Logger } from '../../logger.ts';
import type { ContentState } from '../../store/content-version.repository.ts';
import type { Store } from '../../store/store.ts';

/** Where cached answers live: this process's memory, or Redis, shared by every instance. */
export interface ResponseStore {
  /** The answer's JSON text, or null when none is kept (or it has expired). */
  get(key: string): Promise<string | null>;
  set(key: string, body: string, ttlMs: number): Promise<void>;
  close(): Promise<void>;
}

/** Answers in this process, the least recently used dropped past `maxEntries`. */
export class MemoryResponseStore<V = string> implements ResponseStore {
  readonly #entries = new Map<string, { value: V; expiresAt: number }>();

  /** @param maxEntries how many answers to keep. @default 1000 */
  constructor(readonly maxEntries = 1000) {}

  /** The kept value, synchronously (the listener's lookup). */
  peek(key: string, now = Date.now()): V | null {
    const entry = this.#entries.get(key);
    if (!entry) return null;
    this.#entries.delete(key);
    if (entry.expiresAt <= now) return null;
    this.#entries.set(key, entry);
    return entry.value;
  }

  put(key: string, value: V, ttlMs: number): void {
    this.#entries.delete(key);
    if (this.#entries.size >= this.maxEntries) this.#entries.delete(this.#entries.keys().next().value as string);
    this.#entries.set(key, { value, expiresAt: Date.now() + ttlMs });
  }

  // The ResponseStore face, for string values.
  async get(key: string): Promise<string | null> {
    return this.peek(key) as string | null;
  }

  async set(key: string, body: string, ttlMs: number): Promise<void> {
    this.put(key, body as V, ttlMs);
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
export const MAX_TTL_MS = 3_600_000;

/** How long an answer computed at `nowMs` may be kept: until the next scheduled publication. */
export function answerTtlMs(state: ContentState, nowMs: number): number {
  return Math.min(MAX_TTL_MS, state.nextPublication === null ? MAX_TTL_MS : Date.parse(state.nextPublication) - nowMs);
}

/** A whole HTTP answer as the listener wrote it: written again as it is on a hit. */
export interface CachedAnswer {
  status: number;
  /** Names and values in turn, as `res.writeHead` takes them. */
  headers: string[];
  body: Buffer;
}

/** Where the listener keeps whole answers: synchronous in memory, a round trip in Redis. */
export interface AnswerStore {
  get(key: string, nowMs: number): CachedAnswer | null | Promise<CachedAnswer | null>;
  set(key: string, answer: CachedAnswer, ttlMs: number): void;
}

/** The listener's store beside `responses`: in memory when that is in memory, else in the same Redis. */
export function createAnswerStore(responses: ResponseStore): AnswerStore {
  if (responses instanceof MemoryResponseStore) {
    const memory = new MemoryResponseStore<CachedAnswer>(responses.maxEntries);
    return { get: (key, nowMs) => memory.peek(key, nowMs), set: (key, answer, ttlMs) => memory.put(key, answer, ttlMs) };
  }
  // Keys hashed: they hold the whole request body.
  const redisKey = (key: string) => `answer:${createHash('sha256').update(key).digest('base64url')}`;
  return {
    async get(key) {
      const text = await responses.get(redisKey(key));
      if (text === null) return null;
      try {
        const kept = JSON.parse(text) as { status: number; headers: string[]; body: string };
        return { status: kept.status, headers: kept.headers, body: Buffer.from(kept.body) };
      } catch {
        return null;
      }
    },
    set(key, answer, ttlMs) {
      void responses.set(redisKey(key), JSON.stringify({ status: answer.status, headers: answer.headers, body: answer.body.toString() }), ttlMs);
    },
  };
}

/**
 * What the listener (src/http/listener/pipeline.ts) hands Yoga, in the server context, with a
 * request it could not answer from its kept answers: where to keep the answer it writes. The
 * plugin below says whether the answer may be kept.
 */
export interface FrontMiss {
  /** Every operation was an anonymous query answered without errors. */
  cacheable: boolean;
  /** Some operation was not (a mutation, a signed-in viewer, errors). */
  refused: boolean;
  keep(answer: CachedAnswer): void;
}

/** The server-context field that carries a FrontMiss. */
export const FRONT_MISS = 'mastheadFrontMiss';

/** An answer that may be kept: a single result without errors. */
function keepable(result: ExecutionResult | AsyncIterable<ExecutionResult>): result is ExecutionResult {
  return !(Symbol.asyncIterator in result) && !result.errors?.length;
}

/**
 * A whole-response cache for queries. Every public answer depends only on the request and on
 * the store's content as the public sees it, which changes in two ways: a write (counted by the
 * store's content version, whoever writes, in whichever process) and the coming of a scheduled
 * piece's time. So an entry is keyed by the content version and lives until the next scheduled
 * publication: after any write or at that moment the request is computed afresh. The store says
 * which version is current (Store.contentState: on SQLite without a statement unless something
 * was committed; on PostgreSQL one statement). Mutations and answers with errors are never
 * cached. When the listener drives the request, this tells it instead whether the whole answer
 * it writes (headers and body) may be kept for the next identical request.
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
      const context = args.contextValue as Context & YogaInitialContext & { [FRONT_MISS]?: FrontMiss };
      const front = context[FRONT_MISS];
      const operationName = args.operationName ?? null;
      // Editors and admins may see what the public may not (previews, counts): never shared.
      if (!queryOperation(args.document, operationName) || context.viewer.role !== 'anonymous') {
        if (front) front.refused = true;
        return;
      }
      if (front) {
        // The listener keeps the whole answer for the next identical request: a second copy here
        // would be work and memory spent twice. Say only whether it may keep it.
        return {
          onExecuteDone({ result }: { result: ExecutionResult | AsyncIterable<ExecutionResult> }) {
            if (keepable(result)) front.cacheable = true;
            else front.refused = true;
          },
        };
      }
      let request: string;
      try {
        request = `${context.params.query ?? ''}\u0000${operationName ?? ''}\u0000${JSON.stringify(args.variableValues ?? {})}`;
      } catch {
        // Variables too deep to print (JSON.stringify recurses): not worth keeping; compute afresh.
        return;
      }
      const nowMs = Date.parse(context.now);
      const withState = async (state: ContentState) => {
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
        const ttlMs = answerTtlMs(state, nowMs);
        return {
          onExecuteDone({ result }: { result: ExecutionResult | AsyncIterable<ExecutionResult> }) {
            if (keepable(result) && ttlMs > 0) void responses.set(key, JSON.stringify(result), ttlMs);
          },
        };
      };
      const state = store.contentState(nowMs);
      return state instanceof Promise ? state.then(withState) : withState(state);
    },
  };
}
