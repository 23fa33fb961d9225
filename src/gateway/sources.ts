import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../config.ts';

/**
 * A source that is not a Federation subgraph: a REST service described by an OpenAPI document,
 * or a plain GraphQL endpoint. GraphQL Mesh turns it into a subgraph at composition, and its
 * fields are joined to Masthead's types by the `joins` SDL (Mesh's `@resolveTo`).
 */
export interface Source {
  /** Its name in the supergraph and in errors, e.g. `reviews`. */
  name: string;
  kind: 'openapi' | 'graphql';
  /** openapi: the OpenAPI document, a file path (absolute) or an http(s) URL; graphql: the endpoint. */
  location: string;
  /** openapi: the base URL of the REST service, instead of the document's `servers`. @default null */
  endpoint: string | null;
  /** How long one request to it may take before its part of an answer is given up. */
  timeoutMs: number;
}

const NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
const quote = (value: unknown) => (JSON.stringify(value) ?? String(value)).slice(0, 200);
export const SOURCE_FORM = 'NAME=openapi:FILE_OR_URL or NAME=graphql:URL';

function httpUrl(raw: unknown): string | null {
  try {
    const url = typeof raw === 'string' ? new URL(raw) : null;
    return url && (url.protocol === 'http:' || url.protocol === 'https:') ? url.toString() : null;
  } catch {
    return null;
  }
}

/** One source, checked before anything is fetched: its name, its kind, that its OpenAPI file can be read. */
export function source(name: unknown, kind: unknown, location: unknown, endpoint: unknown, timeoutMs: number, where: string, cwd: string): Source {
  if (typeof name !== 'string' || !NAME.test(name))
    throw new ConfigError(`${where}: the name must be a letter then letters, digits, _ or -, got ${quote(name)}`);
  if (kind !== 'openapi' && kind !== 'graphql') throw new ConfigError(`${where}: "${name}" must be an openapi or graphql source, got ${quote(kind)}`);
  if (typeof location !== 'string' || location === '')
    throw new ConfigError(`${where}: "${name}" names no ${kind === 'openapi' ? 'OpenAPI document' : 'endpoint'}`);
  if (endpoint !== undefined && endpoint !== null && httpUrl(endpoint) === null) {
    throw new ConfigError(`${where}: the endpoint of "${name}" must be an http:// or https:// URL, got ${quote(endpoint)}`);
  }
  const base = { name, kind, timeoutMs, endpoint: endpoint === undefined || endpoint === null ? null : (httpUrl(endpoint) as string) } as const;
  if (kind === 'graphql') {
    const url = httpUrl(location);
    if (url === null) throw new ConfigError(`${where}: the URL of "${name}" must be an http:// or https:// URL, got ${quote(location)}`);
    return { ...base, location: url };
  }
  if (/^https?:\/\//.test(location)) {
    const url = httpUrl(location);
    if (url === null) throw new ConfigError(`${where}: the OpenAPI document of "${name}" is not a URL: ${quote(location)}`);
    return { ...base, location: url };
  }
  const file = path.resolve(cwd, location);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new ConfigError(`${where}: cannot read the OpenAPI document of "${name}" at ${file}: ${reason}`);
  }
  // JSON is checked here; YAML is left to the OpenAPI loader, which reads both.
  if (/\.json$/i.test(file)) {
    try {
      JSON.parse(text);
    } catch (error) {
      throw new ConfigError(`${where}: the OpenAPI document of "${name}" at ${file} is not JSON: ${(error as Error).message}`);
    }
  }
  return { ...base, location: file };
}

/** `--source NAME=openapi:FILE_OR_URL` or `--source NAME=graphql:URL`. */
export function sourceFromFlag(flag: string, timeoutMs: number, cwd: string): Source {
  const match = /^([^=]*)=(openapi|graphql):(.+)$/.exec(flag);
  if (!match) throw new ConfigError(`--source must be ${SOURCE_FORM}, got ${quote(flag)}`);
  return source(match[1], match[2], match[3], undefined, timeoutMs, '--source', cwd);
}
