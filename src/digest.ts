import { createHash } from 'node:crypto';

/** SHA-256 of a text, in hex: how tokens, API keys and persisted documents are named and stored. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
