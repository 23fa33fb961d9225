import { randomUUID } from 'node:crypto';

/** What an X-Request-Id from a trusted proxy may hold: 1 to 128 of these characters. */
const ACCEPTABLE_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/**
 * The id a request is logged and answered with: the `X-Request-Id` the proxy in front set, when
 * proxies are trusted (TRUST_PROXY_HOPS > 0) and it is a plain token of at most 128 characters;
 * otherwise a fresh UUID. A client that reaches Masthead directly cannot choose what its lines
 * are filed under.
 */
export function requestIdOf(header: string | string[] | undefined, trustProxyHops: number): string {
  const given = Array.isArray(header) ? header[0] : header;
  if (trustProxyHops > 0 && given !== undefined && ACCEPTABLE_ID.test(given)) return given;
  return randomUUID();
}
