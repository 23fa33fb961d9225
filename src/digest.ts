import { hash } from 'node:crypto';

/**
 * SHA-256 of a text, in hex: how tokens, API keys and persisted documents are named and stored.
 * Node's one-shot hash: for a short text a third of createHash's CPU (no Hash object), and a
 * sign-up hashes its address for the rate limiter on every request.
 */
export function sha256Hex(text: string): string {
  return hash('sha256', text, 'hex');
}
