import type { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { RateLimit } from '../config.ts';
import { sha256Hex } from '../digest.ts';
import type { Logger } from '../logger.ts';
import { connectRedis, REDIS_REST_MS, waitUntilReady } from '../redis.ts';

export interface RateDecision {
  allowed: boolean;
  /** When the budget refills, if the event was refused. */
  retryAfterMs: number;
}

/** Counts events per key in fixed windows; an event may weigh more than one (a query's cost). */
export interface RateLimiter {
  consume(key: string, rule: RateLimit, weight?: number): Promise<RateDecision>;
  /** Resolves when a shared limiter's connection is ready, or after a short bound. */
  ready?(): Promise<boolean>;
  close(): Promise<void>;
}

const ALLOWED: RateDecision = { allowed: true, retryAfterMs: 0 };

/** Live windows kept in memory at most: beyond, the oldest are forgotten (their clients start afresh). */
const MAX_WINDOWS = 100_000;

/**
 * Counters in this process: enough for one instance. Hand-written rather than
 * rate-limiter-flexible's RateLimiterMemory, which keeps a timer per key and no bound on keys:
 * this one forgets the oldest windows past MAX_WINDOWS, so a flood of new addresses cannot grow it.
 */
export class MemoryRateLimiter implements RateLimiter {
  readonly #windows = new Map<string, { count: number; resetAt: number }>();
  readonly #clock: () => number;
  #lastSweep = 0;

  constructor(clock: () => number = Date.now) {
    this.#clock = clock;
  }

  async consume(key: string, rule: RateLimit, weight = 1): Promise<RateDecision> {
    if (rule.limit === 0) return ALLOWED;
    const now = this.#clock();
    // Ended windows are dropped at most once a second; past MAX_WINDOWS live ones, the oldest go.
    if (now - this.#lastSweep >= 1000) this.#sweep(now);
    let window = this.#windows.get(key);
    if (!window || window.resetAt <= now) {
      window = { count: 0, resetAt: now + rule.windowMs };
      this.#windows.set(key, window);
    }
    window.count += weight;
    return window.count <= rule.limit ? ALLOWED : { allowed: false, retryAfterMs: window.resetAt - now };
  }

  #sweep(now: number): void {
    this.#lastSweep = now;
    for (const [key, window] of this.#windows) if (window.resetAt <= now) this.#windows.delete(key);
    for (const key of this.#windows.keys()) {
      if (this.#windows.size <= MAX_WINDOWS) break;
      this.#windows.delete(key);
    }
  }

  async close(): Promise<void> {
    this.#windows.clear();
  }
}

/**
 * Counters in Redis, shared by every instance (rate-limiter-flexible, one atomic script per
 * event). Redis never slows a request down: while it is not connected, an event is counted at
 * once in this instance's memory instead, and a Redis that fails a command while connected is left
 * alone for REDIS_REST_MS (the circuit opens). The log says so. The memory counters are
 * MemoryRateLimiter's, bounded, rather than the library's insurance limiter (RateLimiterMemory),
 * which keeps every key it sees: a flood of new addresses during an outage must not grow it.
 */
export class RedisRateLimiter implements RateLimiter {
  readonly #redis: Redis;
  readonly #logger: Logger;
  readonly #keyPrefix: string;
  readonly #limiters = new Map<string, RateLimiterRedis>();
  readonly #memory = new MemoryRateLimiter();
  #lastComplaint = 0;
  #restUntil = 0;

  /** @param namespace what every key starts with (see redisNamespace). @default 'masthead:' */
  constructor(url: string, logger: Logger, namespace = 'masthead:') {
    this.#logger = logger;
    this.#keyPrefix = `${namespace}rate`;
    this.#redis = connectRedis(url);
    this.#redis.on('error', (error: Error) => this.#complain(error.message));
  }

  /** Resolves when the connection is ready, or after `timeoutMs` (then events are counted in memory until it is). */
  ready(timeoutMs = 1000): Promise<boolean> {
    return waitUntilReady(this.#redis, timeoutMs);
  }

  async consume(key: string, rule: RateLimit, weight = 1): Promise<RateDecision> {
    if (rule.limit === 0) return ALLOWED;
    if (this.#redis.status !== 'ready') {
      this.#complain(`the connection is ${this.#redis.status}`);
    } else if (Date.now() >= this.#restUntil) {
      try {
        await this.#limiter(rule).consume(key, weight);
        return ALLOWED;
      } catch (outcome) {
        if (outcome instanceof RateLimiterRes) return { allowed: false, retryAfterMs: Math.max(1, outcome.msBeforeNext) };
        // Connected, yet the command failed (a timeout): rest before trying again.
        this.#restUntil = Date.now() + REDIS_REST_MS;
        this.#complain('a command failed or timed out');
      }
    }
    return this.#memory.consume(key, rule, weight);
  }

  #limiter(rule: RateLimit): RateLimiterRedis {
    const name = `${rule.limit}/${rule.windowMs}`;
    let limiter = this.#limiters.get(name);
    if (!limiter) {
      limiter = new RateLimiterRedis({
        points: rule.limit,
        duration: Math.max(1, Math.ceil(rule.windowMs / 1000)),
        storeClient: this.#redis,
        keyPrefix: this.#keyPrefix,
        rejectIfRedisNotReady: true,
      });
      this.#limiters.set(name, limiter);
    }
    return limiter;
  }

  #complain(reason: string): void {
    const now = Date.now();
    if (now - this.#lastComplaint < 10_000) return;
    this.#lastComplaint = now;
    this.#logger.warn(`Redis is unreachable; rate limits are counted in this instance's memory until it is back (${reason})`);
  }

  async close(): Promise<void> {
    this.#redis.disconnect();
    await this.#memory.close();
  }
}

export interface RateLimiterOptions {
  /** What every Redis key starts with (see redisNamespace). @default 'masthead:' */
  namespace?: string;
}

export function createRateLimiter(redisUrl: string | null, logger: Logger, options: RateLimiterOptions = {}): RateLimiter {
  return redisUrl === null ? new MemoryRateLimiter() : new RedisRateLimiter(redisUrl, logger, options.namespace);
}

/** A key that names an e-mail address without storing it (counters may live in a shared Redis). */
export function emailKey(email: string): string {
  return `email:${sha256Hex(email).slice(0, 32)}`;
}
