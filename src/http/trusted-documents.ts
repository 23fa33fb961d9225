import { readFileSync } from 'node:fs';
import { ConfigError } from '../config.ts';
import { sha256Hex } from '../digest.ts';

// Apart from the Yoga plugin that serves the manifest, so that `masthead serve` can refuse a bad
// one before it loads the server (seconds) or touches the store.

/** Trusted documents by hash (hex SHA-256 of the document text), as codegen's client preset writes them. */
export type Manifest = ReadonlyMap<string, string>;

export const HASH = /^(?:sha256:)?([0-9a-f]{64})$/;

/** Reads a manifest: a JSON object from `sha256:HASH` (or `HASH`) to the document text. */
export function loadManifest(file: string): Manifest {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(`TRUSTED_DOCUMENTS cannot be read as JSON: ${file} (${error instanceof Error ? error.message : String(error)})`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`TRUSTED_DOCUMENTS must hold a JSON object from hashes to documents: ${file}`);
  }
  const manifest = new Map<string, string>();
  for (const [key, document] of Object.entries(parsed)) {
    const hash = HASH.exec(key)?.[1];
    if (!hash || typeof document !== 'string')
      throw new ConfigError(`TRUSTED_DOCUMENTS has an entry that is not "sha256:HASH": "document": ${JSON.stringify(key.slice(0, 80))}`);
    if (sha256Hex(document) !== hash) throw new ConfigError(`TRUSTED_DOCUMENTS entry ${key.slice(0, 80)} does not match its document's hash`);
    manifest.set(hash, document);
  }
  return manifest;
}
