import type { IncomingHttpHeaders, IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { type ExecutionResult, GraphQLError } from 'graphql';
import type { GraphQLParams, YogaServerInstance } from 'graphql-yoga';
import type { Context } from '../../context.ts';
import type { LiveHub } from '../../live/live-hub.ts';
import { DRY_RUN_HEADER } from '../../limits/query-limits.ts';
import { type Logger, requestScope } from '../../logger.ts';
import type { Metrics } from '../../metrics.ts';
import type { RateLimiter } from '../../rate-limits/rate-limiter.ts';
import type { Store } from '../../store/store.ts';
import type { ServerContext } from '../../yoga.ts';
import {
  consumeRequestBudget,
  declaresTooLarge,
  GUARDED_BY_LISTENER,
  graphqlGetCacheControl,
  type HttpRules,
  isGuardedPath,
  rateLimitRefusal,
  REFUSALS,
  refusalBody,
  securityHeaders,
} from '../http-rules.ts';
import { requestIdOf } from '../request-id.ts';
import { CACHE_KEYS, cdnKeyHeaders, etagOf, ifNoneMatch } from '../cdn-keys.ts';
import { type AnswerStore, answerTtlMs, type CachedAnswer, ANSWER_TO_KEEP, type AnswerToKeep } from '../plugins/response-cache.ts';
import { createEventStreams, wantsEventStream } from './event-stream.ts';
import { BODY_ABORTED, BODY_TOO_LARGE, DRAIN_LIMIT_BYTES, discardBody, hasBody, readBody, writeAnswer } from './request-body.ts';
import type { GraphQLErrorCode } from '../../errors/error-codes.ts';
import type { Tracing } from '../../tracing/tracing.ts';

/**
 * The largest body whose answer is kept by the response cache: a key holds the body, and a
 * thousand kept answers to megabyte queries would be a gigabyte.
 */
const MAX_KEYED_BODY_BYTES = 64 * 1024;

export interface PipelineOptions {
  /** The Yoga instance: its envelop pipeline serves JSON POST and GET; its handler the rest. */
  yoga: YogaServerInstance<ServerContext, Context>;
  store: Store;
  rules: HttpRules;
  metrics: Metrics;
  logger: Logger;
  /** The request budgets' counters (the same keys as the HTTP guard's). */
  rateLimiter: RateLimiter;
  /** Where whole answers are kept; null: every request is computed. */
  answers: AnswerStore | null;
  /** OpenTelemetry: a span per request (see src/tracing/tracing.ts). @default none */
  tracing?: Tracing | null;
  /** The longest Surrogate-Key / Cache-Tag header (see cdnKeyHeaders). @default 8192 */
  cacheKeyHeaderMaxBytes?: number;
  /** Live streams (subscriptions over SSE); null or absent: event streams go to Yoga's handler. */
  live?: LiveHub | null;
}

export interface Pipeline {
  /** The node:http request listener. */
  request: RequestListener;
  /** Node's `checkContinue` listener: a request with `Expect: 100-continue` is refused before its body is sent, or told to go on. */
  checkContinue: RequestListener;
}

type ResultProcessor = (result: unknown, fetchAPI: unknown, mediaType: string) => Response | Promise<Response>;
type ResultProcessHook = (payload: {
  request: Request;
  result: unknown;
  acceptableMediaTypes: string[];
  setResult(result: unknown): void;
  resultProcessor?: ResultProcessor;
  setResultProcessor(processor: ResultProcessor, mediaType: string): void;
  serverContext: object;
}) => unknown;

/** Just enough of a Fetch Request for Yoga's envelop pipeline and our plugins: headers by name, the method, the URL. */
class ListenerHeaders {
  constructor(readonly raw: IncomingHttpHeaders) {}
  get(name: string): string | null {
    const value = this.raw[name.toLowerCase()];
    return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
  }
  has(name: string): boolean {
    return this.raw[name.toLowerCase()] !== undefined;
  }
  forEach(callback: (value: string, name: string) => void): void {
    for (const name of Object.keys(this.raw)) callback(this.get(name) ?? '', name);
  }
}

function listenerRequest(req: IncomingMessage): Request {
  return { method: req.method, url: `http://${req.headers.host ?? 'localhost'}${req.url}`, headers: new ListenerHeaders(req.headers) } as unknown as Request;
}

/** Routes the HTTP histogram labels by name; any other path is `other`, so clients cannot make up series. */
const OPERATIONAL_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/** A path as metrics and traces name it: a known route, else `other`. */
function routeLabel(path: string): string {
  return isGuardedPath(path) || OPERATIONAL_PATHS.has(path) ? path : 'other';
}
const JSON_TYPE = /^application\/(?:graphql\+)?json\s*(?:;|$)/i;
/** Accept values that ask for what Yoga's own handler writes: GraphiQL, SSE, incremental delivery. */
const OTHER_ANSWER = /text\/html|text\/event-stream|multipart\/mixed/i;
const REGULAR_MEDIA = new Set(['application/json', 'application/graphql-response+json']);
const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };

const REQUEST_ID = 'x-request-id';
/** The id `request` gave each answer, until a path writes it (see identify). */
const requestIds = new WeakMap<ServerResponse, string>();
/** The body's length of the answers written with a header list, which `getHeader` does not see. */
const bodyLengths = new WeakMap<ServerResponse, number>();

/**
 * Sets the answer's X-Request-Id header, for every path but the two that write a JSON answer
 * with `writeHead(status, headers)`, which put it in their own list. A header set beforehand
 * sends every header of that list through Node's slow path (removeHeader and appendHeader each);
 * that cost about 0.008 ms a request, a twentieth of `{ __typename }`.
 */
/** An answer's header list with its request id; kept answers are kept without one. */
function withRequestId(res: ServerResponse, headers: string[]): string[] {
  const requestId = requestIds.get(res);
  return requestId === undefined ? headers : [...headers, REQUEST_ID, requestId];
}

function identify(res: ServerResponse): void {
  const requestId = requestIds.get(res);
  if (requestId !== undefined && !res.headersSent && !res.hasHeader(REQUEST_ID)) res.setHeader(REQUEST_ID, requestId);
}

/**
 * The node:http listener as `masthead serve` runs it: one pipeline for every request. The HTTP
 * rules (src/http/http-rules.ts) are applied here, once, to every route that reads a body or runs
 * GraphQL: the request budget, then the body limit (413 before the connection closes), then
 * the rest. A JSON POST or a GET of /graphql is then served from kept answers (response cache)
 * or driven straight through Yoga's envelop pipeline (params hooks, parse and validation caches,
 * context, execution, result hooks) and written here, without Fetch API objects. What it does
 * not take (GraphiQL, CORS, batches, SSE, other content types, other routes) goes to Yoga's
 * handler, with the body as read and the server context saying that the rules were applied.
 */
export function createPipeline({
  yoga,
  store,
  rules,
  metrics,
  logger,
  rateLimiter,
  answers,
  tracing = null,
  cacheKeyHeaderMaxBytes = 8192,
  live = null,
}: PipelineOptions): Pipeline {
  const accessLog = logger.child({ log: 'access' }, { batched: true });
  const security = securityHeaders(rules);
  const tooLarge = refusalBody('PAYLOAD_TOO_LARGE', REFUSALS.tooLarge(rules.maxBodyBytes));
  // Yoga keeps its result hooks (its media-type negotiation, our status rules) on the instance:
  // running them here keeps those rules Yoga's. Checked once, so an upgrade that moves them fails at start.
  const resultHooks = (yoga as unknown as { onResultProcessHooks?: ResultProcessHook[] }).onResultProcessHooks;
  if (!Array.isArray(resultHooks)) throw new Error('graphql-yoga no longer exposes onResultProcessHooks: the listener cannot drive it');

  const refuse = (res: ServerResponse, status: number, code: GraphQLErrorCode, message: string, headers: Record<string, string> = {}) => {
    identify(res);
    writeAnswer(res, status, { ...JSON_HEADERS, ...security, ...headers }, refusalBody(code, message));
  };
  const serveEventStream = live === null ? null : createEventStreams({ yoga, hub: live, rules, security, logger });

  const handToYoga = (req: IncomingMessage, res: ServerResponse, body: Buffer | null, miss?: AnswerToKeep) => {
    identify(res);
    if (body !== null) {
      // Yoga's node adapter takes a body already read from `req.body`; an async iterable costs no copy.
      (req as IncomingMessage & { body?: unknown }).body = {
        length: body.length,
        async *[Symbol.asyncIterator]() {
          yield body;
        },
      };
    }
    void yoga(req, res, { [GUARDED_BY_LISTENER]: true, ...(miss ? { [ANSWER_TO_KEEP]: miss } : {}) } as ServerContext);
  };

  /** The request budget, then the body: null when the request was answered (or its client left). */
  const admit = async (req: IncomingMessage, res: ServerResponse): Promise<Buffer | null | undefined> => {
    const headers = req.headers;
    const decision = await consumeRequestBudget(rules, rateLimiter, {
      remoteAddress: req.socket.remoteAddress,
      authorization: headerValue(headers.authorization),
      forwardedFor: headerValue(headers['x-forwarded-for']),
    });
    if (!decision.allowed) {
      identify(res);
      const { seconds, message } = rateLimitRefusal(decision.retryAfterMs);
      if ((await discardBody(req)) === BODY_ABORTED) return null;
      const get = req.method === 'GET';
      writeAnswer(
        res,
        429,
        {
          ...JSON_HEADERS,
          'cache-control': get ? 'private, no-store' : 'no-store',
          'retry-after': String(seconds),
          ...(get ? { vary: 'authorization' } : {}),
          ...security,
        },
        refusalBody('RATE_LIMITED', message),
        !req.complete,
      );
      return null;
    }
    if (!hasBody(req)) return undefined;
    const declared = headers['content-length'];
    if (declaresTooLarge(declared, rules)) {
      // Past the drain limit, answer at once: reading that much only to refuse it is not worth it.
      if (Number(declared) - rules.maxBodyBytes <= DRAIN_LIMIT_BYTES && (await discardBody(req)) === BODY_ABORTED) return null;
      identify(res);
      writeAnswer(res, 413, { ...JSON_HEADERS, ...security }, tooLarge, true);
      return null;
    }
    const body = await readBody(req, rules.maxBodyBytes);
    if (body === BODY_ABORTED) {
      res.destroy();
      return null;
    }
    if (body === BODY_TOO_LARGE) {
      identify(res);
      writeAnswer(res, 413, { ...JSON_HEADERS, ...security }, tooLarge, true);
      return null;
    }
    return body;
  };

  const drives = (req: IncomingMessage): boolean => {
    const headers = req.headers;
    if (headers.origin !== undefined || (headers.accept !== undefined && OTHER_ANSWER.test(headers.accept))) return false;
    if (req.method === 'GET') return true;
    return req.method === 'POST' && headers['content-type'] !== undefined && JSON_TYPE.test(headers['content-type']);
  };

  /** The answer kept for this request, or where to keep it; null when answers are not shared. */
  const lookUp = async (req: IncomingMessage, body: Buffer | null): Promise<CachedAnswer | AnswerToKeep | null> => {
    const headers = req.headers;
    if (answers === null || headers.authorization !== undefined || headers[DRY_RUN_HEADER] !== undefined) return null;
    if (body !== null && body.length > MAX_KEYED_BODY_BYTES) return null;
    const nowMs = Date.now();
    try {
      const current = store.contentState(nowMs);
      const state = current instanceof Promise ? await current : current;
      // latin1: every byte as one character, the cheapest faithful decoding.
      const key = `${state.version}\n${req.method} ${req.url}\n${headers.accept ?? ''}\n${headers['content-type'] ?? ''}\n${body === null ? '' : body.toString('latin1')}`;
      const kept = answers.get(key, nowMs);
      const found = kept instanceof Promise ? await kept : kept;
      if (found !== null) return found;
      return {
        cacheable: false,
        refused: false,
        keep(computed) {
          // From now, not from the request's start: the answer must not outlive the next publication.
          const ttlMs = answerTtlMs(state, Date.now());
          if (ttlMs > 0) answers.set(key, computed, ttlMs);
        },
      };
    } catch {
      // The store did not say its version (it is down): computed, and the answer says so.
      return null;
    }
  };

  const params = (req: IncomingMessage, body: Buffer | null): GraphQLParams | string | null => {
    if (req.method === 'GET') {
      const url = req.url ?? '';
      const search = new URLSearchParams(url.slice(url.indexOf('?') + 1));
      try {
        const variables = search.get('variables') || undefined;
        const extensions = search.get('extensions') || undefined;
        const documentId = search.get('documentId') || undefined;
        return {
          query: search.get('query') || undefined,
          operationName: search.get('operationName') || undefined,
          variables: variables ? JSON.parse(variables) : undefined,
          extensions: extensions ? JSON.parse(extensions) : undefined,
          ...(documentId === undefined ? {} : { documentId }),
        } as GraphQLParams;
      } catch {
        return REFUSALS.malformedParameter;
      }
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body === null ? '' : body.toString('utf8'));
    } catch {
      return REFUSALS.malformedJson;
    }
    // A batch (an array) or something that is not an object is Yoga's to answer.
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as GraphQLParams) : null;
  };

  const drive = async (req: IncomingMessage, res: ServerResponse, body: Buffer | null): Promise<void> => {
    const found = answers === null ? null : await lookUp(req, body);
    if (found !== null && 'body' in found) {
      metrics.graphqlRequests.inc();
      const headers = withRequestId(res, found.headers);
      if (req.method === 'GET' && notModified(req, res, headers)) return;
      bodyLengths.set(res, found.body.length);
      res.writeHead(found.status, headers).end(found.body);
      return;
    }
    const miss = found;
    const read = params(req, body);
    if (typeof read === 'string') {
      refuse(res, 400, 'BAD_REQUEST', read, req.method === 'GET' ? { 'cache-control': 'private, no-store', vary: 'authorization' } : {});
      return;
    }
    if (read === null) {
      handToYoga(req, res, body);
      return;
    }
    const request = listenerRequest(req);
    const serverContext: ServerContext & Record<string, unknown> = { req, [GUARDED_BY_LISTENER]: true, ...(miss ? { [ANSWER_TO_KEEP]: miss } : {}) };
    // What a CDN may keep of an anonymous GET: the resolvers name the keys it depends on.
    const cdnKeys = req.method === 'GET' && req.headers.authorization === undefined ? new Set<string>() : null;
    if (cdnKeys) serverContext[CACHE_KEYS] = cdnKeys;
    let result: unknown;
    try {
      result = await yoga.getResultForParams({ params: read, request }, serverContext as unknown as ServerContext & Context);
    } catch (error) {
      // A params hook refused the request (a persisted document that is not known, params of the
      // wrong type): Yoga's handler says so in its words, from the same hooks.
      if (!(error instanceof GraphQLError)) throw error;
      handToYoga(req, res, body);
      return;
    }
    let processor: ResultProcessor | undefined;
    let mediaType = '';
    const acceptableMediaTypes: string[] = [];
    for (const hook of resultHooks) {
      const done = hook({
        request,
        result,
        acceptableMediaTypes,
        setResult(next) {
          result = next;
        },
        ...(processor ? { resultProcessor: processor } : {}),
        setResultProcessor(next, type) {
          processor = next;
          mediaType = type;
        },
        serverContext,
      });
      // Yoga's and our result hooks are synchronous: no microtask for each unless one is not.
      if (done instanceof Promise) await done;
    }
    const get = req.method === 'GET';
    const outcome = result as ExecutionResult & { stringify?: (result: ExecutionResult) => string };
    const hasErrors = !!outcome.errors?.length;
    let status: number;
    let headers: Record<string, string>;
    let payload: Buffer | string;
    if (processor === undefined) {
      status = 406;
      headers = { accept: acceptableMediaTypes.join('; charset=utf-8, ') };
      payload = '';
    } else if (REGULAR_MEDIA.has(mediaType) && !hasErrors && !outcome.extensions?.http && !(Symbol.asyncIterator in outcome)) {
      // A clean result, as Yoga's regular result processor writes it, without a Response between.
      status = 200;
      headers = { 'content-type': `${mediaType}; charset=utf-8` };
      payload = (outcome.stringify ?? JSON.stringify)(outcome);
    } else {
      // Errors (their statuses and headers) and anything unusual: Yoga's own processor, as it is.
      const response = await processor(result, yoga.fetchAPI, mediaType);
      status = response.status;
      headers = {};
      response.headers.forEach((value, name) => {
        const lower = name.toLowerCase();
        if (lower !== 'content-length' && lower !== 'transfer-encoding') headers[lower] = value;
      });
      payload = Buffer.from(await response.arrayBuffer());
    }
    const bytes = typeof payload === 'string' ? Buffer.from(payload) : payload;
    if (get && (headers['content-type'] ?? '').includes('json')) {
      headers['cache-control'] = graphqlGetCacheControl(rules, { status, hasErrors, authorized: req.headers.authorization !== undefined });
      headers.vary = headers.vary ? `${headers.vary}, authorization` : 'authorization';
      if (cdnKeys && headers['cache-control'].startsWith('public')) {
        headers.etag = etagOf(bytes);
        Object.assign(headers, cdnKeyHeaders(cdnKeys, cacheKeyHeaderMaxBytes));
      }
    }
    const written: string[] = [];
    for (const [name, value] of Object.entries(headers)) written.push(name, value);
    for (const [name, value] of Object.entries(security)) if (headers[name] === undefined) written.push(name, value);
    written.push('content-length', String(bytes.length));
    if (miss?.cacheable && !miss.refused && status === 200) miss.keep({ status, headers: written, body: bytes });
    const sent = withRequestId(res, written);
    if (headers.etag !== undefined && notModified(req, res, sent)) return;
    bodyLengths.set(res, bytes.length);
    res.writeHead(status, sent).end(bytes);
  };

  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await admit(req, res);
    if (body === null) return;
    if (serveEventStream !== null && pathOf(req) === '/graphql' && wantsEventStream(req)) {
      identify(res);
      // Subscriptions (and any operation) over SSE, each event with the change feed's sequence as its id.
      const read = params(req, body ?? null);
      if (typeof read === 'string') refuse(res, 400, 'BAD_REQUEST', read);
      else if (read === null) refuse(res, 400, 'BAD_REQUEST', 'An event stream carries one operation: send one JSON object, not a batch.');
      else await serveEventStream(req, res, read);
      return;
    }
    if (pathOf(req) === '/graphql' && drives(req)) await drive(req, res, body ?? null);
    else handToYoga(req, res, body ?? null);
  };

  /**
   * Every request, whatever answers it: its id (in the X-Request-Id answer header and in every
   * line logged while it is served), then, when its answer has gone, an access log line and the
   * HTTP latency histogram.
   */
  const request: RequestListener = (req, res) => {
    const started = performance.now();
    const requestId = requestIdOf(req.headers['x-request-id'], rules.trustProxyHops);
    requestIds.set(res, requestId);
    res.once('close', () => {
      const ms = performance.now() - started;
      const path = pathOf(req);
      const status = res.headersSent ? res.statusCode : 0;
      metrics.observeHttp(req.method ?? '', routeLabel(path), status, ms);
      // The path only: a GET's query string may hold what a reader typed.
      const length = res.getHeader('content-length') ?? bodyLengths.get(res);
      accessLog.info(
        { requestId, method: req.method, path, status, ms: Math.round(ms * 10) / 10, bytes: length === undefined ? null : Number(length) },
        'request',
      );
    });
    if (tracing === null) requestScope.run({ requestId }, route, req, res);
    else tracing.request(req, res, routeLabel(pathOf(req)), () => requestScope.run({ requestId }, route, req, res));
  };

  const route = (req: IncomingMessage, res: ServerResponse): void => {
    if (!isGuardedPath(pathOf(req))) {
      // Health, readiness, metrics and unknown paths read no body: Yoga's handler answers them.
      identify(res);
      void yoga(req, res, {} as ServerContext);
      return;
    }
    serve(req, res).catch((error: unknown) => {
      // Nothing above should throw; if it does, the client gets a plain 500, not a hung socket.
      logger.error('internal error in the HTTP listener:', error);
      if (!res.headersSent) refuse(res, 500, 'INTERNAL_SERVER_ERROR', 'Unexpected error.');
      else res.destroy();
    });
  };

  const checkContinue: RequestListener = (req, res) => {
    if (isGuardedPath(pathOf(req)) && declaresTooLarge(req.headers['content-length'], rules)) {
      // Refused before the client sends a byte of it; the connection closes after the answer.
      writeAnswer(res, 413, { ...JSON_HEADERS, ...security }, tooLarge, true);
      return;
    }
    res.writeContinue();
    request(req, res);
  };

  return { request, checkContinue };
}

/**
 * Answers 304 Not Modified when the request's If-None-Match names the answer's ETag: the
 * answer's headers without its body (nor the headers that describe the body).
 */
function notModified(req: IncomingMessage, res: ServerResponse, headers: string[]): boolean {
  const condition = req.headers['if-none-match'];
  if (condition === undefined) return false;
  const at = headers.indexOf('etag');
  const etag = at === -1 || at % 2 === 1 ? undefined : headers[at + 1];
  if (etag === undefined || !ifNoneMatch(condition, etag)) return false;
  const kept: string[] = [];
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const name = headers[i] ?? '';
    if (name !== 'content-length' && name !== 'content-type') kept.push(name, headers[i + 1] ?? '');
  }
  res.writeHead(304, kept).end();
  return true;
}

function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

function headerValue(value: string | string[] | undefined): string | null {
  return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
}
