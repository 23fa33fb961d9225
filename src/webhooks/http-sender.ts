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
 * no lookup hook, and the address must be checked as connected to. Redirects are not followed
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
    const request = client.request(
      target,
      {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'Masthead-Webhooks/1' },
        lookup: guardedLookup(options.allowPrivate),
        agent: false,
      },
      (response) => {
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
          response.destroy();
        };
        response.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
          bytes += chunk.length;
          // Enough to tell what went wrong: the rest of a large answer is not read.
          if (bytes >= MAX_RESPONSE_BYTES) finish();
        });
        response.on('end', finish);
        response.on('error', () => finish());
      },
    );
    timer = setTimeout(() => {
      done({ status: null, ok: false, error: `no answer within ${options.timeoutMs} ms` });
      request.destroy();
    }, options.timeoutMs);
    request.on('error', (error) =>
      done({
        status: null,
        ok: false,
        error: excerpt(error instanceof RefusedReceiver ? error.message : `${(error as { code?: string }).code ?? ''} ${error.message}`),
      }),
    );
    request.end(body);
  });
}
