import type { HttpConfig } from '../config.ts';
import { bearerToken, hashApiKey } from '../auth/api-keys.ts';
import { DRY_RUN_HEADER } from '../limits/query-limits.ts';
import type { RateDecision, RateLimiter } from '../rate-limits/rate-limiter.ts';
import { clientAddress } from './client-address.ts';
import type { GraphQLErrorCode } from '../errors/error-codes.ts';

/**
 * Every HTTP rule of Masthead, in one place: the body limit, the request budgets per client and
 * per key, the security headers, Cache-Control, the CORS decision, and the wording of each
 * refusal. The node:http listener (src/http/listener/pipeline.ts) applies them to what it serves;
 * the HTTP guard plugin applies the same rules to requests that reach Yoga without the listener
 * (`yoga.fetch`).
 */
export type HttpRules = HttpConfig & {
  trustProxyHops: number;
  /** PUBLIC_URL is https: responses carry Strict-Transport-Security. */
  https: boolean;
};

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
};

/** The security headers every response carries, as names and values. */
export function securityHeaders(rules: Pick<HttpRules, 'https'>): Readonly<Record<string, string>> {
  return rules.https ? { ...SECURITY_HEADERS, 'strict-transport-security': 'max-age=31536000' } : SECURITY_HEADERS;
}

/** The wording of the listener's and the guard's refusals (see docs/queries.md, "Errors"). */
export const REFUSALS = {
  tooLarge: (maxBodyBytes: number) => `The request body is larger than ${maxBodyBytes} bytes.`,
  incomplete: 'The request body ended before it was complete.',
  malformedJson: 'The request body is not valid JSON.',
  malformedParameter: 'The request has a parameter that is not valid JSON (variables or extensions).',
} as const;

/** What a client past its request budget is told. */
export function rateLimitRefusal(retryAfterMs: number): { seconds: number; message: string } {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return { seconds, message: `Too many requests; try again in ${seconds} s.` };
}

/** A refusal's body: a GraphQL error with a code. */
export function refusalBody(code: GraphQLErrorCode, message: string): string {
  return JSON.stringify({ errors: [{ message, extensions: { code } }] });
}

/** Whether a request to this path is counted against the budgets and has its body limited. */
export function isGuardedPath(path: string): boolean {
  return path === '/graphql' || path.startsWith('/subscriptions/');
}

/** A declared Content-Length past the limit (a malformed one is Node's to refuse, before us). */
export function declaresTooLarge(contentLength: string | null | undefined, rules: Pick<HttpRules, 'maxBodyBytes'>): boolean {
  return contentLength !== null && contentLength !== undefined && Number(contentLength) > rules.maxBodyBytes;
}

/** Counts a request against its budget: per API key when it carries one, else per client address. */
export function consumeRequestBudget(
  rules: HttpRules,
  rateLimiter: RateLimiter,
  request: { remoteAddress: string | undefined; authorization: string | null; forwardedFor: string | null },
): Promise<RateDecision> {
  const token = bearerToken(request.authorization);
  if (token) return rateLimiter.consume(`requests:key:${hashApiKey(token).slice(0, 32)}`, rules.perKey);
  const address = clientAddress(request.remoteAddress, request.forwardedFor, rules.trustProxyHops);
  return rateLimiter.consume(`requests:client:${address ?? 'unknown'}`, rules.perClient);
}

/**
 * Cache-Control of a JSON answer to a GET of /graphql: public only for a clean answer (200, no
 * `errors`) to an anonymous caller; anything else is per caller. Vary: Authorization goes with it.
 */
export function graphqlGetCacheControl(
  rules: Pick<HttpRules, 'cacheMaxAgeSeconds'>,
  answer: { status: number; hasErrors: boolean; authorized: boolean },
): string {
  const shared = answer.status === 200 && !answer.hasErrors && !answer.authorized && rules.cacheMaxAgeSeconds > 0;
  return shared ? `public, max-age=${rules.cacheMaxAgeSeconds}` : 'private, no-store';
}

/** The CORS answer for an Origin: allowed origins only; others get no CORS headers at all. */
export function corsDecision(
  rules: Pick<HttpRules, 'corsOrigins'>,
  origin: string | null,
): false | { origin: string; methods: string[]; allowedHeaders: string[]; maxAge: number } {
  const allowed = rules.corsOrigins;
  if (origin === null || !(allowed.includes('*') || allowed.includes(origin))) return false;
  return { origin, methods: ['GET', 'POST'], allowedHeaders: ['content-type', 'authorization', 'last-event-id', DRY_RUN_HEADER], maxAge: 600 };
}

/**
 * The server-context field the listener sets on what it hands Yoga: the body limit and the
 * request budget were applied already (the body was read within the limit; the request counted).
 */
export const GUARDED_BY_LISTENER = 'mastheadGuardedByListener';
