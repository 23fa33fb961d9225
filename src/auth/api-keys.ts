import { randomBytes } from 'node:crypto';
import { sha256Hex } from '../digest.ts';
import type { GraphQLError } from 'graphql';
import type { Role } from '../store/database.ts';
import { findActiveApiKey } from '../store/api-key.repository.ts';
import type { Store } from '../store/store.ts';
import { codedError } from '../errors/coded-error.ts';

/** Who is asking: anonymous readers, or the holder of an editor's or admin's API key. */
export interface Viewer {
  role: 'anonymous' | Role;
  keyId: number | null;
  /** Cost points per minute for a key's own budget; null: the default. */
  costBudget: number | null;
}

export const ANONYMOUS: Viewer = { role: 'anonymous', keyId: null, costBudget: null };

const KEY_PATTERN = /^mh_[A-Za-z0-9_-]{43}$/;

/** A new key's secret (shown once) and what is stored of it. */
export function newApiKey(): { secret: string; hash: string; prefix: string } {
  const secret = `mh_${randomBytes(32).toString('base64url')}`;
  return { secret, hash: hashApiKey(secret), prefix: secret.slice(0, 10) };
}

export function hashApiKey(secret: string): string {
  return sha256Hex(secret);
}

/** The token of an `Authorization: Bearer …` header, if there is one. */
export function bearerToken(header: string | null): string | null {
  const match = header === null ? null : /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return match?.[1] ?? null;
}

function unauthenticated(message: string): GraphQLError {
  return codedError('UNAUTHENTICATED', message, { headers: { 'www-authenticate': 'Bearer' } });
}

/**
 * The viewer a request speaks for. No Authorization header: an anonymous reader. A header
 * that is not a live key is refused with 401, the same for a malformed, unknown or revoked
 * key, so the answer tells nothing about which keys exist.
 */
export async function resolveViewer(store: Store, authorization: string | null): Promise<Viewer> {
  if (authorization === null) return ANONYMOUS;
  const token = bearerToken(authorization);
  if (token === null || !KEY_PATTERN.test(token)) throw unauthenticated('The Authorization header must be "Bearer <API key>".');
  const key = await findActiveApiKey(store.db, hashApiKey(token));
  if (!key) throw unauthenticated('This API key is not valid.');
  return { role: key.role, keyId: key.id, costBudget: key.costBudget };
}
