import { sha256Hex } from '../digest.ts';
import { Redis } from 'ioredis';
import type { RateLimit } from '../config.ts';
import type { Logger } from '../logger.ts';

export interface RateDecision {
  allowed: boolean;
  /** When the budget refills, if the event was refused. */
  retryAfterMs: number;
}

/** Counts events per key in fixed windows; an event may weigh more than one (a query's cost). */
export interface RateLimiter {
  consume(key: string, rule: RateLimit, weight?: number): Promise<RateDecision>;
  close(): Promise<void>;
}

const ALLOWED: RateDecision = { allowed: true, retryAfterMs: 0 };

/** Live windows kept in memory at most: beyond, the oldest are forgotten (their clients start afresh). */
const MAX_WINDOWS = 100_000;

/** Counters in this process: enough for one instance. */
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

// One round trip, atomic: count the event, start the window's clock on its first event.
const CONSUME_SCRIPT = `
local count = redis.call('INCRBY', KEYS[1], ARGV[2])
if count == tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return { count, ttl }`;

/**
 * Counters in Redis, shared by every instance. When Redis cannot be reached the limiter lets
 * events through (and logs it): sign-ups keep working, with the bot check still in place.
 */
export class RedisRateLimiter implements RateLimiter {
  readonly #redis: Redis;
  readonly #logger: Logger;
  #lastComplaint = 0;

  constructor(url: string, logger: Logger) {
    this.#logger = logger;
    this.#redis = new Redis(url, {
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
      commandTimeout: 2000,
      retryStrategy: (times) => Math.min(times * 200, 5000),
    });
    this.#redis.on('error', (error: Error) => this.#complain(error));
  }

  async consume(key: string, rule: RateLimit, weight = 1): Promise<RateDecision> {
    if (rule.limit === 0) return ALLOWED;
    try {
      const [count, ttl] = (await this.#redis.eval(CONSUME_SCRIPT, 1, `masthead:rate:${key}`, rule.windowMs, weight)) as [number, number];
      return count <= rule.limit ? ALLOWED : { allowed: false, retryAfterMs: ttl };
    } catch (error) {
      this.#complain(error);
      return ALLOWED;
    }
  }

  #complain(error: unknown): void {
    const now = Date.now();
    if (now - this.#lastComplaint < 10_000) return;
    this.#lastComplaint = now;
    const reason = error instanceof Error ? error.message : String(error);
    this.#logger.warn(`Redis is unreachable; rate limits are not enforced until it is back (${reason})`);
  }

  async close(): Promise<void> {
    this.#redis.disconnect();
  }
}

export function createRateLimiter(redisUrl: string | null, logger: Logger): RateLimiter {
  return redisUrl === null ? new MemoryRateLimiter() : new RedisRateLimiter(redisUrl, logger);
}

/** A key that names an e-mail address without storing it (counters may live in a shared Redis). */
export function emailKey(email: string): string {
  return `email:${sha256Hex(email).slice(0, 32)}`;
}
