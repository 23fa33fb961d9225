import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { HttpConfig } from '../../config.ts';
import type { RateLimiter } from '../../rate-limits/rate-limiter.ts';
import { bearerToken, hashApiKey } from '../../auth/api-keys.ts';
import { clientAddress } from '../client-address.ts';

type ErrorResponse = (status: number, code: string, message: string, headers?: Record<string, string>) => Response;

function errorResponder(fetchAPI: { Response: typeof Response }): ErrorResponse {
  return (status, code, message, headers = {}) =>
    new fetchAPI.Response(JSON.stringify({ errors: [{ message, extensions: { code } }] }), {
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

/** What a client past its request budget is told (here and by the response cache's fast path). */
export function rateLimitRefusal(retryAfterMs: number): { seconds: number; message: string } {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return { seconds, message: `Too many requests; try again in ${seconds} s.` };
}

export const SECURITY_HEADERS: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
};

/**
 * What stands between the open internet and GraphQL: a body limit (413, whether the body says
 * its length or not), rate limits per client address and per API key for every operation
 * (429 with Retry-After), and security headers on every response.
 */
export function useHttpGuards(
  config: HttpConfig & { trustProxyHops: number; https: boolean },
  rateLimiter: RateLimiter,
): Plugin<Record<string, never>, { req?: { socket: { remoteAddress?: string } } }> {
  const tooLarge = `The request body is larger than ${config.maxBodyBytes} bytes.`;
  return {
    async onRequest({ request, url, endResponse, fetchAPI, serverContext }) {
      if (url.pathname !== '/graphql') return;
      const fail = errorResponder(fetchAPI);
      const length = request.headers.get('content-length');
      if (length !== null && Number(length) > config.maxBodyBytes) {
        endResponse(fail(413, 'PAYLOAD_TOO_LARGE', tooLarge, { connection: 'close' }));
        return;
      }
      const token = bearerToken(request.headers.get('authorization'));
      const [key, rule] = token
        ? [`key:${hashApiKey(token).slice(0, 32)}`, config.perKey]
        : [
            `client:${clientAddress(serverContext.req?.socket.remoteAddress, request.headers.get('x-forwarded-for'), config.trustProxyHops) ?? 'unknown'}`,
            config.perClient,
          ];
      const decision = await rateLimiter.consume(`requests:${key}`, rule);
      if (!decision.allowed) {
        const { seconds, message } = rateLimitRefusal(decision.retryAfterMs);
        endResponse(fail(429, 'RATE_LIMITED', message, { 'retry-after': String(seconds) }));
      }
    },
    onRequestParse({ request, requestParser, setRequestParser, fetchAPI }) {
      if (!requestParser) return;
      const fail = errorResponder(fetchAPI);
      // A body that does not say its length is read here, up to the limit.
      const unsized = !request.headers.has('content-length') && request.body !== null;
      setRequestParser(async (incoming) => {
        let target = incoming;
        if (unsized) {
          let body: Buffer | null;
          try {
            body = await readAtMost(incoming, config.maxBodyBytes);
          } catch {
            // The client hung up mid-body: nobody is left to answer, and it is no fault of ours.
            return fail(400, 'BAD_REQUEST', 'The request body ended before it was complete.');
          }
          if (body === null) return fail(413, 'PAYLOAD_TOO_LARGE', tooLarge, { connection: 'close' });
          target = new fetchAPI.Request(incoming.url, { method: incoming.method, headers: incoming.headers, body: body as unknown as BodyInit });
        }
        try {
          return await requestParser(target);
        } catch (error) {
          // Yoga's own refusals are GraphQL errors with a status; anything else thrown while
          // reading the request (variables or extensions that are not JSON, in a URL or a form)
          // is still the client's mistake.
          if (error instanceof GraphQLError) throw error;
          return fail(400, 'BAD_REQUEST', `The request could not be read: ${(error instanceof Error ? error.message : String(error)).slice(0, 200)}`);
        }
      });
    },
    onResponse({ request, response }) {
      // Anonymous GET queries that succeed may be cached by browsers and CDNs for a while;
      // anything else is per caller.
      if (request.method === 'GET' && new URL(request.url).pathname === '/graphql' && (response.headers.get('content-type') ?? '').includes('json')) {
        const shared = response.status === 200 && !request.headers.has('authorization') && config.cacheMaxAgeSeconds > 0;
        response.headers.set('cache-control', shared ? `public, max-age=${config.cacheMaxAgeSeconds}` : 'private, no-store');
        response.headers.append('vary', 'authorization');
      }
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
        if (!response.headers.has(name)) response.headers.set(name, value);
      }
      if (config.https) response.headers.set('strict-transport-security', 'max-age=31536000');
    },
  };
}
