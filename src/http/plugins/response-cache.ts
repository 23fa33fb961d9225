import { createHash } from 'node:crypto';
import { type DocumentNode, type ExecutionResult, getOperationAST } from 'graphql';
import type { Plugin, YogaInitialContext } from 'graphql-yoga';
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { Context } from '../../context.ts';
import type { Logger } from '../../logger.ts';
import { connectRedis, REDIS_REST_MS, waitUntilReady } from '../../redis.ts';
import type { ContentState } from '../../store/content-version.repository.ts';
import type { Store } from '../../store/store.ts';

/** Where cached answers live: this process's memory, or Redis, shared by every instance. */
export interface ResponseStore {
  /** The answer's JSON text, or null when none is kept (or it has expired). */
  get(key: string): Promise<string | null>;
  /** Keeps the answer within the store's byte budget; one larger than its largest entry is not kept. */
  set(key: string, body: string, ttlMs: number): Promise<void>;
  /** Resolves when a shared store's connection is ready, or after a short bound. */
  ready?(): Promise<boolean>;
  close(): Promise<void>;
}

/** How many bytes a cache may hold: answers and their keys, together and each. */
export interface CacheBudget {
  /** @default 67108864 (64 MiB) */
  maxBytes: number;
  /** An answer larger than this (with its key) is served and not kept. @default 1048576 (1 MiB) */
  maxEntryBytes: number;
}

export const DEFAULT_CACHE_BUDGET: CacheBudget = { maxBytes: 64 * 1024 * 1024, maxEntryBytes: 1024 * 1024 };

/** A string's size as kept: its UTF-8 bytes (what a reply sends; V8 keeps one or two bytes a character). */
const textBytes = (text: string) => Buffer.byteLength(text);

/** Answers in this process, within a byte budget: the least recently used dropped past it (lru-cache). */
export class MemoryResponseStore<V extends object | string = string> implements ResponseStore {
  readonly #entries: LRUCache<string, V>;

  /** @param sizeOf a value's bytes; strings are counted as their UTF-8 bytes. */
  constructor(
    readonly budget: CacheBudget = DEFAULT_CACHE_BUDGET,
    sizeOf: (value: V) => number = (value) => (typeof value === 'string' ? textBytes(value) : textBytes(JSON.stringify(value))),
  ) {
    this.#entries = new LRUCache<string, V>({
      maxSize: budget.maxBytes,
      maxEntrySize: budget.maxEntryBytes,
      // The key holds the request (up to 64 KiB of body on the listener's path for kept answers): it counts too.
      sizeCalculation: (value, key) => Math.max(1, sizeOf(value) + key.length),
    });
  }

  /** The kept value, synchronously (the listener's lookup). */
  peek(key: string): V | null {
    return this.#entries.get(key) ?? null;
  }

  put(key: string, value: V, ttlMs: number): void {
    // Past maxEntrySize lru-cache keeps nothing (and drops what the key held).
    this.#entries.set(key, value, { ttl: Math.max(1, Math.round(ttlMs)) });
  }

  /** Bytes held now, keys included. */
  get bytes(): number {
    return this.#entries.calculatedSize;
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

/**
 * Keeps an answer and, in the same step, the deployment's byte budget (one script: atomic for
 * every instance sharing the keys). Hand-written because Redis's own eviction (maxmemory) is one
 * policy for the whole server, rate-limit counters and other deployments included: it cannot
 * bound one cache. An index (sorted by expiry) and a table of sizes beside the answers say what
 * is kept; entries past their time are forgotten, then the soonest to expire go until the new
 * answer fits. The index keys live as long as the longest answer could.
 */
const KEEP_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
local size = tonumber(ARGV[3])
local budget = tonumber(ARGV[4])
local function forget(key)
  local kept = redis.call('HGET', KEYS[3], key)
  if kept then
    redis.call('HDEL', KEYS[3], key)
    redis.call('DECRBY', KEYS[4], kept)
  end
  redis.call('ZREM', KEYS[2], key)
end
forget(KEYS[1])
for _, key in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 100)) do forget(key) end
local total = tonumber(redis.call('GET', KEYS[4]) or '0')
while total + size > budget do
  local oldest = redis.call('ZRANGE', KEYS[2], 0, 0)[1]
  if not oldest then break end
  redis.call('DEL', oldest)
  forget(oldest)
  total = tonumber(redis.call('GET', KEYS[4]) or '0')
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
redis.call('ZADD', KEYS[2], now + ttl, KEYS[1])
redis.call('HSET', KEYS[3], KEYS[1], size)
redis.call('INCRBY', KEYS[4], size)
for i = 2, 4 do redis.call('PEXPIRE', KEYS[i], ARGV[5]) end
return total + size`;

type KeepingRedis = Redis & {
  keepAnswer(
    entry: string,
    index: string,
    sizes: string,
    total: string,
    body: string,
    ttlMs: number,
    size: number,
    budget: number,
    keepMs: number,
  ): Promise<number>;
};

/**
 * Answers in Redis, shared by every instance, within a byte budget for the deployment. When
 * Redis cannot be reached (or stops answering), every request is computed at once, without
 * waiting on it, and the log says so.
 */
export class RedisResponseStore implements ResponseStore {
  readonly #redis: KeepingRedis;
  readonly #logger: Logger;
  readonly #prefix: string;
  readonly #budget: CacheBudget;
  #lastComplaint = 0;
  /** Until when Redis is left alone after a failed command. */
  #restUntil = 0;

  /** @param prefix what every key starts with. @default 'masthead:response:' */
  constructor(url: string, logger: Logger, prefix = 'masthead:response:', budget: CacheBudget = DEFAULT_CACHE_BUDGET) {
    this.#logger = logger;
    this.#prefix = prefix;
    this.#budget = budget;
    this.#redis = connectRedis(url) as KeepingRedis;
    this.#redis.defineCommand('keepAnswer', { numberOfKeys: 4, lua: KEEP_SCRIPT });
    this.#redis.on('error', (error: Error) => this.#complain(error));
  }

  /** Resolves when the connection is ready, or after `timeoutMs` (then requests are computed until it is). */
  async ready(timeoutMs = 1000): Promise<boolean> {
    return waitUntilReady(this.#redis, timeoutMs);
  }

  async get(key: string): Promise<string | null> {
    if (!this.#usable()) return null;
    try {
      return await this.#redis.get(`${this.#prefix}${key}`);
    } catch (error) {
      this.#failed(error);
      return null;
    }
  }

  async set(key: string, body: string, ttlMs: number): Promise<void> {
    const entry = `${this.#prefix}${key}`;
    const size = textBytes(body) + entry.length;
    if (size > this.#budget.maxEntryBytes || !this.#usable()) return;
    const p = this.#prefix;
    try {
      await this.#redis.keepAnswer(
        entry,
        `${p}~index`,
        `${p}~sizes`,
        `${p}~bytes`,
        body,
        Math.max(1, Math.round(ttlMs)),
        size,
        this.#budget.maxBytes,
        MAX_TTL_MS,
      );
    } catch (error) {
      this.#failed(error);
    }
  }

  /** Bytes the deployment's cache holds now, by its own count. */
  async bytes(): Promise<number> {
    return Number((await this.#redis.get(`${this.#prefix}~bytes`)) ?? 0);
  }

  #usable(): boolean {
    if (this.#redis.status !== 'ready') {
      this.#complain(new Error(`the connection is ${this.#redis.status}`));
      return false;
    }
    return Date.now() >= this.#restUntil;
  }

  #failed(error: unknown): void {
    this.#restUntil = Date.now() + REDIS_REST_MS;
    this.#complain(error);
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

export interface ResponseStoreOptions {
  /** @default DEFAULT_CACHE_BUDGET */
  budget?: CacheBudget;
  /** What every Redis key starts with: the deployment's REDIS_PREFIX and its store's identity. @default 'masthead:' */
  namespace?: string;
}

export function createResponseStore(redisUrl: string | null, logger: Logger, options: ResponseStoreOptions = {}): ResponseStore {
  const budget = options.budget ?? DEFAULT_CACHE_BUDGET;
  return redisUrl === null ? new MemoryResponseStore(budget) : new RedisResponseStore(redisUrl, logger, `${options.namespace ?? 'masthead:'}response:`, budget);
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

/** A whole answer's bytes: its body and its headers. */
function answerBytes(answer: CachedAnswer): number {
  let bytes = answer.body.length;
  for (const part of answer.headers) bytes += part.length;
  return bytes;
}

/** The listener's store beside `responses`: in memory when that is in memory, else in the same Redis. */
export function createAnswerStore(responses: ResponseStore): AnswerStore {
  if (responses instanceof MemoryResponseStore) {
    const memory = new MemoryResponseStore<CachedAnswer>(responses.budget, answerBytes);
    return { get: (key) => memory.peek(key), set: (key, answer, ttlMs) => memory.put(key, answer, ttlMs) };
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
 * request it could not answer from its kept answers: where to keep the answer Yoga writes. The
 * plugin below says whether the answer may be kept.
 */
export interface AnswerToKeep {
  /** Every operation was an anonymous query answered without errors. */
  cacheable: boolean;
  /** Some operation was not (a mutation, a signed-in viewer, errors). */
  refused: boolean;
  keep(answer: CachedAnswer): void;
}

/** The server-context field that carries an AnswerToKeep. */
export const ANSWER_TO_KEEP = 'mastheadAnswerToKeep';

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
 * which version is current (Store.contentState: without a statement unless something was
 * committed, on SQLite by PRAGMA data_version, on PostgreSQL by LISTEN/NOTIFY). Mutations and
 * answers with errors are never cached. When the listener drives the request, this tells it
 * instead whether the whole answer it writes (headers and body) may be kept for the next
 * identical request.
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
      const context = args.contextValue as Context & YogaInitialContext & { [ANSWER_TO_KEEP]?: AnswerToKeep };
      const toKeep = context[ANSWER_TO_KEEP];
      const operationName = args.operationName ?? null;
      // Editors and admins may see what the public may not (previews, counts): never shared.
      if (!queryOperation(args.document, operationName) || context.viewer.role !== 'anonymous') {
        if (toKeep) toKeep.refused = true;
        return;
      }
      if (toKeep) {
        // The listener keeps the whole answer for the next identical request: a second copy here
        // would be work and memory spent twice. Say only whether it may keep it.
        return {
          onExecuteDone({ result }: { result: ExecutionResult | AsyncIterable<ExecutionResult> }) {
            if (keepable(result)) toKeep.cacheable = true;
            else toKeep.refused = true;
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
        return {
          onExecuteDone({ result }: { result: ExecutionResult | AsyncIterable<ExecutionResult> }) {
            // Until the next publication, counted from now: not from the request's start.
            const ttlMs = answerTtlMs(state, Date.now());
            if (keepable(result) && ttlMs > 0) void responses.set(key, JSON.stringify(result), ttlMs);
          },
        };
      };
      const state = store.contentState(nowMs);
      return state instanceof Promise ? state.then(withState) : withState(state);
    },
  };
}
