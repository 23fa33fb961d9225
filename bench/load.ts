// Load: saturation through autocannon (as a library: N connections, one request in flight on
// each), and latency at a fixed rate through an open-loop generator.
//
// Why not autocannon's own rate mode for latency: it lets each connection send its quota for the
// second back to back and then waits for the next second, so load arrives in bursts, and it
// times a request from when it was sent, not from when it was due. Here requests are due at
// even intervals whatever the server does, and each is timed from when it was due: a stalled
// server shows as latency instead of as fewer requests (no coordinated omission).
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';

export interface Target {
  host: string;
  port: number;
  /** The body of request number `n`. */
  body(n: number): string;
  /** Whether every request has its own body. */
  unique: boolean;
}

export interface Saturation {
  /** Answered with a 2xx: only those count as served. */
  requests: number;
  /** Sent, answered or not: the server works on each, even on those it answers after the run ends. */
  sent: number;
  seconds: number;
  perSecond: number;
  /** Non-2xx answers, connection errors and timeouts. */
  failures: number;
}

export async function saturate(target: Target, seconds: number, connections: number): Promise<Saturation> {
  let n = 0;
  const result = await autocannon({
    url: `http://${target.host}:${target.port}/graphql`,
    connections,
    pipelining: 1,
    duration: seconds,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    ...(target.unique ? { requests: [{ method: 'POST', setupRequest: (request) => ({ ...request, body: target.body(n++) }) }] } : { body: target.body(0) }),
  });
  const requests = result['2xx'];
  return {
    requests,
    sent: result.requests.sent,
    seconds: result.duration,
    perSecond: requests / result.duration,
    failures: result.non2xx + result.errors + result.timeouts,
  };
}

export interface FixedRate {
  rate: number;
  /** Completed per second over the time from the first due request to the last answer. */
  achieved: number;
  p50: number;
  p99: number;
  max: number;
  failures: number;
  /** Requests still unanswered when the generator gave up on them (counted with their wait so far). */
  abandoned: number;
}

const percentile = (sorted: readonly number[], p: number) =>
  sorted.length === 0 ? Number.NaN : (sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN);

/** Sends `rate` requests a second for `seconds`, each due at an even interval; latencies in ms from when each was due. */
export async function fixedRate(target: Target, rate: number, seconds: number, connections: number): Promise<FixedRate> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const total = Math.max(1, Math.round(rate * seconds));
  const interval = 1000 / rate;
  const latencies: number[] = [];
  const pending = new Set<http.ClientRequest>();
  let failures = 0;
  let issued = 0;
  const start = performance.now() + 5;
  let lastAnswer = start;

  const send = (n: number, due: number) => {
    const body = target.body(n);
    const request = http.request(
      {
        agent,
        host: target.host,
        port: target.port,
        method: 'POST',
        path: '/graphql',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (response) => {
        response.resume();
        response.on('end', () => {
          pending.delete(request);
          lastAnswer = performance.now();
          latencies.push(lastAnswer - due);
          if (response.statusCode !== 200) failures++;
        });
      },
    );
    request.on('error', () => {
      pending.delete(request);
      failures++;
    });
    pending.add(request);
    request.end(body);
  };

  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (issued < total && start + issued * interval <= now) {
        send(issued, start + issued * interval);
        issued++;
      }
      if (issued < total) setTimeout(tick, Math.max(0, start + issued * interval - performance.now()));
      else resolve();
    };
    setTimeout(tick, Math.max(0, start - performance.now()));
  });
  // Let the last requests come back, but not forever: an overloaded server's backlog is its latency.
  const deadline = performance.now() + Math.max(5000, seconds * 2000);
  while (pending.size > 0 && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  const abandoned = pending.size;
  const gaveUp = performance.now();
  for (const request of pending) {
    latencies.push(gaveUp - start);
    request.destroy();
  }
  agent.destroy();
  const sorted = latencies.sort((a, b) => a - b);
  return {
    rate,
    achieved: (latencies.length - abandoned) / ((lastAnswer - start) / 1000),
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? Number.NaN,
    failures,
    abandoned,
  };
}

/** A server process's CPU time so far, in ms (user + system, from /proc). */
export function cpuMs(pid: number, ticksPerSecond = 100): number {
  const stat = readProc(`/proc/${pid}/stat`);
  // Fields after the command name (which may hold spaces) start at its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const user = Number(fields[11]);
  const system = Number(fields[12]);
  return ((user + system) * 1000) / ticksPerSecond;
}

/**
 * Waits until a server has worked off what a run left it (requests still in flight when the
 * load stopped): until it uses under 5% of a core for two samples in a row, or `maxSeconds`.
 * Without this a slow server would still be busy on the shared core while the next is measured.
 */
export async function settle(pid: number, maxSeconds = 30): Promise<number> {
  const started = performance.now();
  let quiet = 0;
  let before = cpuMs(pid);
  while (quiet < 2 && performance.now() - started < maxSeconds * 1000) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    const now = cpuMs(pid);
    quiet = now - before < 250 * 0.05 ? quiet + 1 : 0;
    before = now;
  }
  return (performance.now() - started) / 1000;
}

/** A process's resident set, in MiB. */
export function rssMb(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readProc(`/proc/${pid}/status`));
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

function readProc(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Samples a process's RSS every 100 ms while `work` runs; the peak, in MiB. */
export async function peakRss<T>(pid: number, work: () => Promise<T>): Promise<{ result: T; peakMb: number }> {
  let peakMb = rssMb(pid);
  const timer = setInterval(() => {
    peakMb = Math.max(peakMb, rssMb(pid));
  }, 100);
  try {
    const result = await work();
    peakMb = Math.max(peakMb, rssMb(pid));
    return { result, peakMb };
  } finally {
    clearInterval(timer);
  }
}
