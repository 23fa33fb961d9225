import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { hostOf, refusal, refusedRange, RefusedReceiver } from './receiver-address.ts';

/** Bytes of a receiver's answer read at most: the rest is not waited for. */
export const MAX_RESPONSE_BYTES = 4096;
/** Characters of an answer or an error kept with a delivery. */
export const EXCERPT_CHARS = 200;

export interface SendOutcome {
  /** The HTTP status; null when none came. */
  status: number | null;
  ok: boolean;
  durationMs: number;
  /** What went wrong, or the start of a refusing receiver's answer (at most EXCERPT_CHARS). */
  error: string | null;
}

export interface SendOptions {
  timeoutMs: number;
  allowPrivate: boolean;
  /** Keep-alive connections to receivers; null: a new connection per attempt. */
  agents: ReceiverAgents | null;
}

/** Receivers' origins (scheme, host, port) with a pool each: the oldest unused pool is closed past this. */
const MAX_ORIGINS = 256;
/** Connections kept to one origin: one per endpoint sent to at once (endpoints may share an origin). */
const MAX_SOCKETS_PER_ORIGIN = 8;
/** An idle connection is closed after this: below Node's and most servers' keep-alive timeout (5 s), so a receiver rarely closes one as it is reused. */
const IDLE_SOCKET_MS = 4000;

/**
 * Keep-alive connections to webhook receivers, one http(s).Agent per origin, so that a burst of
 * deliveries to an endpoint does not pay a TCP (and TLS) handshake per attempt. Each agent
 * connects through the guarded lookup, so the address a connection is made to is checked as
 * before; a kept connection stays on the address checked when it was made. Bounded: at most
 * MAX_ORIGINS agents (least recently used closed first), MAX_SOCKETS_PER_ORIGIN connections
 * each, idle ones closed after IDLE_SOCKET_MS.
 */
export class ReceiverAgents {
  readonly #agents = new Map<string, http.Agent>();
  readonly #allowPrivate: boolean;

  constructor(allowPrivate: boolean) {
    this.#allowPrivate = allowPrivate;
  }

  for(target: URL): http.Agent {
    const key = target.origin;
    const existing = this.#agents.get(key);
    if (existing) {
      // Most recently used last.
      this.#agents.delete(key);
      this.#agents.set(key, existing);
      return existing;
    }
    const options = {
      keepAlive: true,
      maxSockets: MAX_SOCKETS_PER_ORIGIN,
      maxFreeSockets: MAX_SOCKETS_PER_ORIGIN,
      timeout: IDLE_SOCKET_MS,
      scheduling: 'lifo' as const,
      lookup: guardedLookup(this.#allowPrivate),
    };
    const agent = target.protocol === 'https:' ? new https.Agent(options) : new http.Agent(options);
    this.#agents.set(key, agent);
    if (this.#agents.size > MAX_ORIGINS) {
      const [oldestKey, oldest] = this.#agents.entries().next().value as [string, http.Agent];
      this.#agents.delete(oldestKey);
      oldest.destroy();
    }
    return agent;
  }

  /** Closes every kept connection. */
  destroy(): void {
    for (const agent of this.#agents.values()) agent.destroy();
    this.#agents.clear();
  }
}

/**
 * A lookup for node:http that refuses a name resolving to a loopback, private or link-local
 * address at connection time: the address checked is the one connected to, so a name that
 * resolved to a public address when the endpoint was added and to 127.0.0.1 now is refused.
 */
function guardedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 4);
      if (!allowPrivate) {
        for (const { address } of addresses) {
          const range = refusedRange(address);
          if (range !== null) return callback(refusal(hostname, address, range), '', 4);
        }
      }
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      const first = addresses[0];
      if (!first) return callback(new RefusedReceiver(`${hostname} does not resolve`), '', 4);
      callback(null, first.address, first.family);
    });
  };
}

const excerpt = (text: string) => text.replace(/\s+/g, ' ').trim().slice(0, EXCERPT_CHARS);

/**
 * POSTs one signed delivery. Hand-written on node:http rather than fetch: fetch (undici) takes
 * no lookup hook, and the address must be checked as connected to. With `agents` the connection
 * is kept for the next attempt to the same origin. Redirects are not followed
 * (a 3xx is a failure that says where it pointed); at most MAX_RESPONSE_BYTES of the answer are
 * read, and only an excerpt kept; the whole attempt, answer included, has `timeoutMs`.
 */
export function sendWebhook(url: string, headers: Record<string, string>, body: string, options: SendOptions): Promise<SendOutcome> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  return new Promise((resolve) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const done = (outcome: Omit<SendOutcome, 'durationMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...outcome, durationMs: elapsed() });
    };
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      done({ status: null, ok: false, error: 'the endpoint URL cannot be read' });
      return;
    }
    const host = hostOf(target);
    if (ipaddr.isValid(host) && !options.allowPrivate) {
      const range = refusedRange(host);
      if (range !== null) {
        done({ status: null, ok: false, error: excerpt(refusal(host, host, range).message) });
        return;
      }
    }
    const client = target.protocol === 'https:' ? https : http;
    const agent = options.agents?.for(target) ?? false;
    let request: http.ClientRequest | null = null;
    const post = (firstTry: boolean) => {
      let answered = false;
      const sent = client.request(
        target,
        {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'Masthead-Webhooks/1' },
          lookup: guardedLookup(options.allowPrivate),
          agent,
        },
        (response) => {
          answered = true;
          const status = response.statusCode ?? 0;
          const chunks: Buffer[] = [];
          let bytes = 0;
          const finish = () => {
            const text = Buffer.concat(chunks).subarray(0, MAX_RESPONSE_BYTES).toString('utf8');
            const ok = status >= 200 && status < 300;
            if (ok) done({ status, ok, error: null });
            else if (status >= 300 && status < 400) {
              const location = response.headers.location ?? '(no Location)';
              done({ status, ok, error: excerpt(`redirect to ${location} not followed`) });
            } else done({ status, ok, error: excerpt(`HTTP ${status}: ${text}`) });
          };
          response.on('data', (chunk: Buffer) => {
            chunks.push(chunk);
            bytes += chunk.length;
            // Enough to tell what went wrong: the rest of a large answer is not read, and its connection not kept.
            if (bytes >= MAX_RESPONSE_BYTES) {
              finish();
              response.destroy();
            }
          });
          // Read to its end (short), the connection goes back to the pool for the next attempt.
          response.on('end', finish);
          response.on('error', () => finish());
        },
      );
      sent.on('error', (error) => {
        // A kept connection the receiver closed as it was reused: once more on a new one (Node's advice for keep-alive).
        if (firstTry && !answered && sent.reusedSocket && (error as { code?: string }).code === 'ECONNRESET' && !settled) {
          post(false);
          return;
        }
        done({
          status: null,
          ok: false,
          error: excerpt(error instanceof RefusedReceiver ? error.message : `${(error as { code?: string }).code ?? ''} ${error.message}`),
        });
      });
      request = sent;
      sent.end(body);
    };
    timer = setTimeout(() => {
      done({ status: null, ok: false, error: `no answer within ${options.timeoutMs} ms` });
      request?.destroy();
    }, options.timeoutMs);
    post(true);
  });
}
