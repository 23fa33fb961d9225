import { createRequire } from 'node:module';
import type { Redis, RedisOptions } from 'ioredis';

// ioredis is loaded when the first connection is made (only with REDIS_URL set), not with this
// module: a server without Redis keeps its memory. It is CommonJS, so `require` is synchronous.
const require = createRequire(import.meta.url);

/**
 * ioredis settings that fail fast: no queue of commands while the connection is down or not yet
 * ready (a command then fails at once, and the caller does without Redis), a short connect and
 * command timeout, and reconnection in the background. What every Redis client of Masthead uses.
 */
const FAIL_FAST: RedisOptions = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  connectTimeout: 1000,
  commandTimeout: 500,
  retryStrategy: (times) => Math.min(times * 200, 5000),
};

/** How long a Redis that failed a command while connected is left alone before it is tried again (a circuit breaker). */
export const REDIS_REST_MS = 5000;

export function connectRedis(url: string): Redis {
  const { Redis: Client } = require('ioredis') as typeof import('ioredis');
  return new Client(url, FAIL_FAST);
}

/** Resolves true once `redis` is ready, false after `timeoutMs` or when the connection ends. */
export function waitUntilReady(redis: Redis, timeoutMs: number): Promise<boolean> {
  if (redis.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ready: boolean) => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      redis.off('end', onEnd);
      resolve(ready);
    };
    const onReady = () => done(true);
    const onEnd = () => done(false);
    const timer = setTimeout(() => done(false), timeoutMs);
    redis.on('ready', onReady);
    redis.on('end', onEnd);
  });
}

/**
 * What every Redis key of a deployment starts with: REDIS_PREFIX, then the identity of its store,
 * so that two deployments on one Redis (staging and production) never share a key, even with the
 * same prefix.
 */
export function redisNamespace(prefix: string, storeIdentity: string): string {
  return `${prefix}${storeIdentity}:`;
}
