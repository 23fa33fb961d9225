import { randomBytes } from 'node:crypto';
import { sha256Hex } from '../digest.ts';

// A token is 32 random bytes, base64url: 43 characters. Only its SHA-256 hash is stored, so a
// copy of the database confirms and unsubscribes no one.

export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

export function hashToken(token: string): string {
  return sha256Hex(token);
}

export function isWellFormedToken(token: string): boolean {
  return /^[A-Za-z0-9_-]{43}$/.test(token);
}

/** The random id a sign-up shows in the graph. */
export function newPublicId(): string {
  return randomBytes(16).toString('hex');
}
