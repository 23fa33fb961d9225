import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Config } from '../../config.ts';
import type { Metrics } from '../../metrics.ts';
import type { RateLimiter } from '../../rate-limits/rate-limiter.ts';
import type { ContentState } from '../../store/content-version.repository.ts';
import type { Store } from '../../store/store.ts';
import { clientAddress } from '../client-address.ts';
import { DRY_RUN_HEADER } from '../../limits/query-limits.ts';
import { rateLimitRefusal, SECURITY_HEADERS } from '../plugins/http-guards.ts';
import { type AnswerStore, answerTtlMs, type CachedAnswer, FRONT_MISS, type FrontMiss } from '../plugins/response-cache.ts';

/** Yoga as the node:http listener calls it: `yoga(req, res, serverContext)`. */
export type NodeHandler = (req: IncomingMessage, res: ServerResponse, serverContext?: Record<string, unknown>) => unknown;

/**
 * The largest body the fast path reads and keys answers by (larger goes to Yoga unread): a key
 * holds the body, and a thousand kept answers to megabyte queries would be a gigabyte.
 */
const MAX_KEYED_BODY_BYTES = 64 * 1024;

export interface FrontOptions {
  /** The Yoga instance: every request the front does not answer goes to it. */
  yoga: NodeHandler;
  store: Store;
  config: Config;
  metrics: Metrics;
  /** The limiter the HTTP guard counts requests with (the same keys). */
  rateLimiter: RateLimiter;
  /** Where whole answers are kept; null: no fast path, every request goes to Yoga. */
  answers: AnswerStore | null;
}

/**
 * The response cache's fast path, on the node:http listener in front of Yoga. A request that may
 * share an answer with others (a GraphQL POST of JSON or a GET with a query string, without
 * credentials, without a dry run, without an Origin, which CORS answers, and of a stated length
 * within MAX_BODY_BYTES and 64 KiB) is read whole and looked up by the content version, what it asks (the
 * raw body or query string) and the headers that choose the answer's form. A hit is written as
 * Yoga sent it the first time, after the per-client rate limit: no URL or JSON parsing, no
 * context, no store statement. A miss goes to Yoga with the body it was read with, and the
 * response cache plugin keeps Yoga's whole answer when it may. Anything else goes to Yoga as it came.
 */
export function createFront({ yoga, store, config, metrics, rateLimiter, answers }: FrontOptions): RequestListener {
  const handle = yoga;
  if (answers === null) return (req, res) => void handle(req, res);
  const maxBodyBytes = Math.min(config.http.maxBodyBytes, MAX_KEYED_BODY_BYTES);
  const perClient = config.http.perClient;
  const trustProxyHops = config.trustProxyHops;
  const https = config.publicUrl.startsWith('https:');

  const eligible = (req: IncomingMessage): boolean => {
    const headers = req.headers;
    if (headers.authorization !== undefined || headers[DRY_RUN_HEADER] !== undefined || headers.origin !== undefined) return false;
    if (headers['transfer-encoding'] !== undefined) return false;
    if (req.method === 'POST') {
      if (req.url !== '/graphql' || !headers['content-type']?.startsWith('application/json')) return false;
      // Of a stated length only: the HTTP guard answers the rest (413 past the limit).
      const length = headers['content-length'];
      return length !== undefined && /^\d{1,10}$/.test(length) && Number(length) <= maxBodyBytes;
    }
    return req.method === 'GET' && req.url !== undefined && req.url.startsWith('/graphql?') && headers['content-length'] === undefined;
  };

  const tooMany = (req: IncomingMessage, res: ServerResponse, retryAfterMs: number) => {
    // As the HTTP guard answers it (useHttpGuards), headers and all.
    const { seconds, message } = rateLimitRefusal(retryAfterMs);
    const body = JSON.stringify({ errors: [{ message, extensions: { code: 'RATE_LIMITED' } }] });
    const headers: Record<string, string> = {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': req.method === 'GET' ? 'private, no-store' : 'no-store',
      'retry-after': String(seconds),
      ...(req.method === 'GET' ? { vary: 'authorization' } : {}),
      ...SECURITY_HEADERS,
      ...(https ? { 'strict-transport-security': 'max-age=31536000' } : {}),
      'content-length': String(Buffer.byteLength(body)),
    };
    res.writeHead(429, headers).end(body);
  };

  const passOn = (req: IncomingMessage, res: ServerResponse, body: Buffer | null, miss: FrontMiss | null) => {
    if (body !== null) {
      // The body was read here: Yoga's node adapter takes one already read from `req.body`, and an
      // async iterable (what `req` itself is) costs no copy and no per-byte keys.
      (req as IncomingMessage & { body?: unknown }).body = {
        length: body.length,
        async *[Symbol.asyncIterator]() {
          yield body;
        },
      };
    }
    handle(req, res, miss === null ? {} : { [FRONT_MISS]: miss });
  };

  const answer = async (req: IncomingMessage, res: ServerResponse, body: Buffer | null) => {
    const nowMs = Date.now();
    let state: ContentState;
    let found: CachedAnswer | null;
    let key: string;
    try {
      const current = store.contentState(nowMs);
      state = current instanceof Promise ? await current : current;
      const headers = req.headers;
      // latin1: every byte as one character, the cheapest faithful decoding.
      key = `${state.version}\n${req.method} ${req.url}\n${headers.accept ?? ''}\n${headers['content-type'] ?? ''}\n${body === null ? '' : body.toString('latin1')}`;
      const kept = answers.get(key, nowMs);
      found = kept instanceof Promise ? await kept : kept;
    } catch {
      // The store did not say its version (it is down): Yoga answers, and says so.
      passOn(req, res, body, null);
      return;
    }
    if (found === null) {
      const hitKey = key;
      passOn(req, res, body, {
        cacheable: false,
        refused: false,
        keep(computed) {
          // From now, not from the request's start: the answer must not outlive the next publication.
          const ttlMs = answerTtlMs(state, Date.now());
          if (ttlMs > 0) answers.set(hitKey, computed, ttlMs);
        },
      });
      return;
    }
    if (perClient.limit > 0) {
      const address = clientAddress(req.socket.remoteAddress, headersValue(req.headers['x-forwarded-for']), trustProxyHops);
      const decision = await rateLimiter.consume(`requests:client:${address ?? 'unknown'}`, perClient);
      if (!decision.allowed) {
        tooMany(req, res, decision.retryAfterMs);
        return;
      }
    }
    metrics.graphqlRequests.inc();
    res.writeHead(found.status, found.headers).end(found.body);
  };

  return (req, res) => {
    if (!eligible(req)) {
      handle(req, res);
      return;
    }
    if (req.method === 'GET') {
      void answer(req, res, null);
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    // A client that hangs up mid-body is gone: nobody to answer.
    req.on('error', () => {});
    req.on('end', () => void answer(req, res, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
  };
}

function headersValue(value: string | string[] | undefined): string | null {
  return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
}
