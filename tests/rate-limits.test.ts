import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import type { Logger } from '../src/logger.ts';
import { MemoryRateLimiter, RedisRateLimiter } from '../src/rate-limits/rate-limiter.ts';
import { createTestApp, silentLogger, type TestApp } from './support/app.ts';
import { type ServerProcess, startServerProcess } from './support/cli.ts';
import { rawRequest } from './support/raw-http.ts';
import { REDIS_URL, redisAnswers } from './support/redis.ts';
import { listenSilently, type SilentSocket } from './support/silent-socket.ts';
import { createThrowawayStore, type ThrowawayStore } from './support/store.ts';

const rule = { limit: 2, windowMs: 60_000 };

describe('the in-memory rate limiter', () => {
  it('allows a budget per key and window, then refuses until the window ends', async () => {
    let now = 1_000_000;
    const limiter = new MemoryRateLimiter(() => now);
    expect((await limiter.consume('a', rule)).allowed).toBe(true);
    expect((await limiter.consume('a', rule)).allowed).toBe(true);
    expect(await limiter.consume('a', rule)).toEqual({ allowed: false, retryAfterMs: 60_000 });
    expect((await limiter.consume('b', rule)).allowed).toBe(true);
    now += 30_000;
    expect(await limiter.consume('a', rule)).toEqual({ allowed: false, retryAfterMs: 30_000 });
    now += 30_000;
    expect((await limiter.consume('a', rule)).allowed).toBe(true);
  });

  it('lets everything through when the limit is 0 (switched off)', async () => {
    const limiter = new MemoryRateLimiter();
    for (let i = 0; i < 100; i++) expect((await limiter.consume('a', { limit: 0, windowMs: 1000 })).allowed).toBe(true);
  });
});

const redisUp = await redisAnswers();
if (!redisUp) {
  // Under CI Redis must answer (.ci/run starts it); elsewhere these tests wait for it.
  if (process.env.CI) throw new Error(`Redis does not answer at ${REDIS_URL}`);
  console.warn(`Redis does not answer at ${REDIS_URL}: skipping the shared rate-limit tests`);
}

describe.runIf(redisUp)('the Redis rate limiter (REDIS_URL)', () => {
  // Keys unique to this run, so runs side by side (or leftovers) never share a budget.
  const run = randomBytes(6).toString('hex');
  let redis: Redis;

  beforeAll(async () => {
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, lazyConnect: true });
    await redis.connect();
  });
  afterAll(async () => {
    const keys = await redis.keys(`masthead:rate:*${run}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('shares one budget between instances', async () => {
    const first = new RedisRateLimiter(REDIS_URL, silentLogger);
    const second = new RedisRateLimiter(REDIS_URL, silentLogger);
    try {
      expect(await first.ready()).toBe(true);
      expect(await second.ready()).toBe(true);
      expect((await first.consume(`shared-${run}`, rule)).allowed).toBe(true);
      expect((await second.consume(`shared-${run}`, rule)).allowed).toBe(true);
      const refused = await first.consume(`shared-${run}`, rule);
      expect(refused.allowed).toBe(false);
      expect(refused.retryAfterMs).toBeGreaterThan(50_000);
      expect(await redis.pttl(`masthead:rate:shared-${run}`)).toBeGreaterThan(50_000);
    } finally {
      await first.close();
      await second.close();
    }
  });

  it('limits sign-ups across two servers that share Redis', async () => {
    // Only the per-address budget is under test, its key unique to this run: the per-client budgets
    // (in-process requests all come from client "unknown") would be shared with every other run.
    const signUp = { ...loadConfig({}).signUp, perEmail: rule, perClient: { limit: 0, windowMs: 60_000 } };
    const http = { ...loadConfig({}).http, perClient: { limit: 0, windowMs: 60_000 } };
    const apps: TestApp[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        const rateLimiter = new RedisRateLimiter(REDIS_URL, silentLogger);
        expect(await rateLimiter.ready()).toBe(true);
        apps.push(await createTestApp({ seed: { issues: 1, authors: 1, articles: 1 }, config: { signUp, http }, rateLimiter }));
      }
      const email = `shared-${run}@example.org`;
      const codes: string[][] = [];
      for (const app of [apps[0], apps[1], apps[0], apps[1]]) {
        const response = await app?.graphql<{ subscribe: { userErrors: Array<{ code: string }> } }>(
          'mutation S($input: SubscribeInput!) { subscribe(input: $input) { userErrors { code } } }',
          { input: { email, newsletter: 'breakfast-in-red' } },
        );
        codes.push(response?.data?.subscribe.userErrors.map((e) => e.code) ?? ['no answer']);
      }
      expect(codes).toEqual([[], [], ['RATE_LIMITED'], ['RATE_LIMITED']]);
    } finally {
      for (const app of apps) await app.close();
    }
  });

  it.each([
    ['a closed port', async () => ({ url: 'redis://127.0.0.1:1', close: async () => {} })],
    ['a socket that never answers', listenSilently],
  ])('counts in memory at once, and says so in the log, when Redis is %s', async (_name, open) => {
    const down = await open();
    const warnings: unknown[][] = [];
    const logger: Logger = { ...silentLogger, warn: (...args: unknown[]) => warnings.push(args) };
    const limiter = new RedisRateLimiter(down.url, logger);
    try {
      const started = performance.now();
      const allowed: boolean[] = [];
      for (let i = 0; i < 4; i++) allowed.push((await limiter.consume(`down-${run}`, rule)).allowed);
      // Generous: a command waiting on Redis would take its connect or command timeout, each time.
      expect(performance.now() - started).toBeLessThan(200);
      expect(allowed).toEqual([true, true, false, false]);
      expect(String(warnings[0]?.[0])).toMatch(/Redis is unreachable; rate limits are counted in this instance's memory/);
    } finally {
      await limiter.close();
      await down.close();
    }
  });
});

describe('a server whose Redis does not answer', () => {
  let silent: SilentSocket;
  let throwaway: ThrowawayStore;
  let server: ServerProcess;

  beforeAll(async () => {
    silent = await listenSilently();
    throwaway = await createThrowawayStore();
    server = await startServerProcess({
      DATABASE_URL: throwaway.databaseUrl,
      DEMO_CONTENT: '1',
      MAIL_SENDER: 'off',
      REDIS_URL: silent.url,
      RATE_LIMIT_PER_CLIENT: '6/1m',
      SUBSCRIBE_RATE_PER_EMAIL: '2/1h',
    });
  });
  afterAll(async () => {
    await server?.stop();
    await throwaway?.drop();
    await silent?.close();
  });

  it('answers fast, keeps its rate limits in memory, and says so in the log', async () => {
    const timings: number[] = [];
    const timed = async (body: string) => {
      const started = performance.now();
      const response = await rawRequest(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      timings.push(performance.now() - started);
      return response;
    };
    const codes: string[][] = [];
    for (let i = 0; i < 3; i++) {
      const response = await timed(
        JSON.stringify({
          query: 'mutation S($input: SubscribeInput!) { subscribe(input: $input) { userErrors { code } } }',
          variables: { input: { email: 'down@example.org', newsletter: 'breakfast-in-red' } },
        }),
      );
      codes.push((JSON.parse(response!.text) as { data: { subscribe: { userErrors: { code: string }[] } } }).data.subscribe.userErrors.map((e) => e.code));
    }
    expect(codes).toEqual([[], [], ['RATE_LIMITED']]);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await timed(JSON.stringify({ query: '{ latestIssue { number } }' })))!.status);
    // Six requests per client a minute: three sign-ups, three queries, then 429.
    expect(statuses).toEqual([200, 200, 200, 429]);
    // Generous for a loaded machine; a request waiting on Redis took 1.3 s to 6.4 s.
    expect(Math.max(...timings)).toBeLessThan(1000);
    expect(server.output()).toMatch(/Redis is unreachable; rate limits are counted in this instance's memory/);
  });
});
