import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
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
import type { RateLimiter } from '../../rate-limits/rate-limiter.ts';
import type { GraphQLErrorCode } from '../../errors/error-codes.ts';

type ErrorResponse = (status: number, code: GraphQLErrorCode, message: string, headers?: Record<string, string>) => Response;

function errorResponder(fetchAPI: { Response: typeof Response }): ErrorResponse {
  return (status, code, message, headers = {}) =>
    new fetchAPI.Response(refusalBody(code, message), {
      status,
      headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers },
    });
}

/** Reads a body that came without a length, up to `limit` bytes; null when it is longer. */
async function readAtMost(request: Request, limit: number): Promise<Buffer | null> {
  if (!request.body) return Buffer.alloc(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

/** Yoga's refusal of a JSON body that does not parse: it carries the parser's message, with a piece of the body. */
function isInvalidJsonRefusal(error: GraphQLError): boolean {
  return error.extensions?.originalError !== undefined && error.message === 'POST body sent invalid JSON.';
}

/**
 * The HTTP rules (src/http/http-rules.ts) for what reaches Yoga. The listener applies the body
 * limit and the request budgets itself and says so in the server context; a request without
 * it (`yoga.fetch`) has them applied here. Either way the malformed-JSON wording, Cache-Control
 * and the security headers are set here for the answers Yoga writes.
 */
export function useHttpGuards(rules: HttpRules, rateLimiter: RateLimiter): Plugin<Record<string, never>, { req?: { socket: { remoteAddress?: string } } }> {
  const tooLarge = REFUSALS.tooLarge(rules.maxBodyBytes);
  const headers = Object.entries(securityHeaders(rules));
  const withErrors = new WeakMap<Request, boolean>();
  const guarded = (serverContext: object) => (serverContext as Record<string, unknown>)[GUARDED_BY_LISTENER] === true;
  return {
    async onRequest({ request, url, endResponse, fetchAPI, serverContext }) {
      if (guarded(serverContext) || !isGuardedPath(url.pathname)) return;
      const fail = errorResponder(fetchAPI);
      if (declaresTooLarge(request.headers.get('content-length'), rules)) {
        endResponse(fail(413, 'PAYLOAD_TOO_LARGE', tooLarge, { connection: 'close' }));
        return;
      }
      const decision = await consumeRequestBudget(rules, rateLimiter, {
        remoteAddress: serverContext.req?.socket.remoteAddress,
        authorization: request.headers.get('authorization'),
        forwardedFor: request.headers.get('x-forwarded-for'),
      });
      if (!decision.allowed) {
        const { seconds, message } = rateLimitRefusal(decision.retryAfterMs);
        endResponse(fail(429, 'RATE_LIMITED', message, { 'retry-after': String(seconds) }));
      }
    },
    onRequestParse({ request, requestParser, setRequestParser, fetchAPI, serverContext }) {
      if (!requestParser) return;
      const fail = errorResponder(fetchAPI);
      // A body that does not say its length is read here, up to the limit (the listener read it already).
      const unsized = !guarded(serverContext) && !request.headers.has('content-length') && request.body !== null;
      setRequestParser(async (incoming) => {
        let target = incoming;
        if (unsized) {
          let body: Buffer | null;
          try {
            body = await readAtMost(incoming, rules.maxBodyBytes);
          } catch {
            // The client hung up mid-body: nobody is left to answer, and it is no fault of ours.
            return fail(400, 'BAD_REQUEST', REFUSALS.incomplete);
          }
          if (body === null) return fail(413, 'PAYLOAD_TOO_LARGE', tooLarge, { connection: 'close' });
          target = new fetchAPI.Request(incoming.url, { method: incoming.method, headers: incoming.headers, body: body as unknown as BodyInit });
        }
        try {
          return await requestParser(target);
        } catch (error) {
          // Yoga's own refusals are GraphQL errors with a status, said in our words where they
          // would echo the parser; anything else thrown while reading the request (variables or
          // extensions that are not JSON, in a URL or a form) is still the client's mistake.
          if (error instanceof GraphQLError && !isInvalidJsonRefusal(error)) throw error;
          return fail(400, 'BAD_REQUEST', error instanceof GraphQLError ? REFUSALS.malformedJson : REFUSALS.malformedParameter);
        }
      });
    },
    onResultProcess({ request, result }) {
      withErrors.set(request, Array.isArray(result) ? result.some((one) => one.errors?.length) : 'errors' in result && !!result.errors?.length);
    },
    onResponse({ request, response }) {
      // Anonymous GET queries answered cleanly may be cached by browsers and CDNs for a while;
      // anything else is per caller.
      if (request.method === 'GET' && new URL(request.url).pathname === '/graphql' && (response.headers.get('content-type') ?? '').includes('json')) {
        const cacheControl = graphqlGetCacheControl(rules, {
          status: response.status,
          // A refusal before any result (a 4xx of the guard, a request that could not be read) has errors too.
          hasErrors: withErrors.get(request) ?? response.status !== 200,
          authorized: request.headers.has('authorization'),
        });
        response.headers.set('cache-control', cacheControl);
        response.headers.append('vary', 'authorization');
      }
      for (const [name, value] of headers) {
        if (!response.headers.has(name)) response.headers.set(name, value);
      }
    },
  };
}
