import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../config.ts';
import { type Source, source, sourceFromFlag } from './sources.ts';

/** One subgraph that the gateway composes and calls. */
export interface Subgraph {
  /** Its name in the supergraph and in errors, e.g. `masthead`. */
  name: string;
  /** Its GraphQL endpoint, e.g. `http://127.0.0.1:4000/graphql`. */
  url: string;
  /** How long one request to it may take before its part of an answer is given up. @default 5000 */
  timeoutMs: number;
  /** A file holding its SDL, used instead of asking it for `_service { sdl }` at start. @default null */
  schemaFile: string | null;
}

export const DEFAULT_TIMEOUT_MS = 5000;
const MAX_TIMEOUT_MS = 600_000;
const NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

/** What the gateway composes: Federation subgraphs, other sources, and the SDL that joins them. */
export interface GatewayPlan {
  subgraphs: Subgraph[];
  sources: Source[];
  /** SDL extending the composed types with fields resolved by a source (GraphQL Mesh's `@resolveTo`). @default null */
  joins: string | null;
}

/** What the command line says: `--subgraph NAME=URL` and `--source NAME=KIND:WHERE` (any number), `--joins FILE`, `--config FILE`, `--timeout-ms MS`. */
export interface SubgraphFlags {
  subgraph?: string[];
  source?: string[];
  joins?: string;
  config?: string;
  timeoutMs?: string;
}

const quote = (value: unknown) => (JSON.stringify(value) ?? String(value)).slice(0, 200);

function timeout(raw: unknown, where: string): number {
  const value = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : raw;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_TIMEOUT_MS) {
    throw new ConfigError(`${where} must be a whole number of milliseconds from 1 to ${MAX_TIMEOUT_MS}, got ${quote(raw)}`);
  }
  return value;
}

function subgraph(name: unknown, url: unknown, where: string): Pick<Subgraph, 'name' | 'url'> {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new ConfigError(`${where}: the name must be a letter then letters, digits, _ or -, got ${quote(name)}`);
  }
  let parsed: URL | null = null;
  try {
    parsed = typeof url === 'string' ? new URL(url) : null;
  } catch {
    parsed = null;
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    throw new ConfigError(`${where}: the URL of "${name}" must be an http:// or https:// URL, got ${quote(url)}`);
  }
  return { name, url: parsed.toString() };
}

interface ConfigFile {
  timeoutMs?: unknown;
  subgraphs?: unknown;
  sources?: unknown;
  joins?: unknown;
}
const CONFIG_KEYS = new Set(['timeoutMs', 'subgraphs', 'sources', 'joins']);

function readConfigFile(file: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new ConfigError(`--config ${file}: ${reason}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`--config ${file}: not JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`--config ${file}: must hold an object with "subgraphs", got ${quote(parsed)}`);
  }
  const unknown = Object.keys(parsed).filter((key) => !CONFIG_KEYS.has(key));
  if (unknown.length > 0) throw new ConfigError(`--config ${file}: unknown setting ${quote(unknown[0])}`);
  return parsed as ConfigFile;
}

/**
 * The subgraphs to compose, from the flags and the config file together. Anything that cannot be
 * used (a flag without `=`, a bad name or URL, a name given twice, a bad timeout, an unreadable
 * config file) is a ConfigError naming it: one line, exit 2, before anything is fetched.
 */
export function readSubgraphs(flags: SubgraphFlags, cwd: string = process.cwd()): GatewayPlan {
  const configFile = flags.config === undefined ? null : path.resolve(cwd, flags.config);
  const config = configFile === null ? {} : readConfigFile(configFile);
  const defaultTimeout =
    flags.timeoutMs !== undefined
      ? timeout(flags.timeoutMs, '--timeout-ms')
      : config.timeoutMs !== undefined
        ? timeout(config.timeoutMs, `--config ${configFile}: timeoutMs`)
        : DEFAULT_TIMEOUT_MS;

  const subgraphs: Subgraph[] = [];
  if (config.subgraphs !== undefined) {
    const where = `--config ${configFile}: subgraphs`;
    if (!Array.isArray(config.subgraphs)) throw new ConfigError(`${where} must be a list, got ${quote(config.subgraphs)}`);
    for (const [index, entry] of (config.subgraphs as unknown[]).entries()) {
      const at = `${where}[${index}]`;
      if (typeof entry !== 'object' || entry === null) throw new ConfigError(`${at} must be an object, got ${quote(entry)}`);
      const { name, url, timeoutMs, schema, ...rest } = entry as Record<string, unknown>;
      const extra = Object.keys(rest)[0];
      if (extra !== undefined) throw new ConfigError(`${at}: unknown setting ${quote(extra)}`);
      if (schema !== undefined && typeof schema !== 'string') throw new ConfigError(`${at}: schema must be a file name, got ${quote(schema)}`);
      subgraphs.push({
        ...subgraph(name, url, at),
        timeoutMs: timeoutMs === undefined ? defaultTimeout : timeout(timeoutMs, `${at}: timeoutMs`),
        schemaFile: schema === undefined || configFile === null ? null : path.resolve(path.dirname(configFile), schema),
      });
    }
  }
  for (const flag of flags.subgraph ?? []) {
    const at = flag.indexOf('=');
    if (at < 0) throw new ConfigError(`--subgraph must be NAME=URL, got ${quote(flag)}`);
    subgraphs.push({ ...subgraph(flag.slice(0, at), flag.slice(at + 1), '--subgraph'), timeoutMs: defaultTimeout, schemaFile: null });
  }

  const sources: Source[] = [];
  if (config.sources !== undefined) {
    const where = `--config ${configFile}: sources`;
    if (!Array.isArray(config.sources)) throw new ConfigError(`${where} must be a list, got ${quote(config.sources)}`);
    for (const [index, entry] of (config.sources as unknown[]).entries()) {
      const at = `${where}[${index}]`;
      if (typeof entry !== 'object' || entry === null) throw new ConfigError(`${at} must be an object, got ${quote(entry)}`);
      const { name, kind, location, endpoint, timeoutMs, ...rest } = entry as Record<string, unknown>;
      const extra = Object.keys(rest)[0];
      if (extra !== undefined) throw new ConfigError(`${at}: unknown setting ${quote(extra)}`);
      const ms = timeoutMs === undefined ? defaultTimeout : timeout(timeoutMs, `${at}: timeoutMs`);
      sources.push(source(name, kind, location, endpoint, ms, at, path.dirname(configFile as string)));
    }
  }
  for (const flag of flags.source ?? []) sources.push(sourceFromFlag(flag, defaultTimeout, cwd));

  let joins: string | null = null;
  const joinsFile =
    flags.joins !== undefined
      ? path.resolve(cwd, flags.joins)
      : config.joins !== undefined && configFile !== null
        ? typeof config.joins === 'string'
          ? path.resolve(path.dirname(configFile), config.joins)
          : (() => {
              throw new ConfigError(`--config ${configFile}: joins must be a file name, got ${quote(config.joins)}`);
            })()
        : null;
  if (joinsFile !== null) {
    try {
      joins = readFileSync(joinsFile, 'utf8');
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
      throw new ConfigError(`cannot read the joins ${joinsFile}: ${reason}`);
    }
  }

  if (subgraphs.length === 0 && sources.length === 0) throw new ConfigError('no subgraphs: give --subgraph NAME=URL for each, or --config FILE');
  const seen = new Set<string>();
  for (const { name } of [...subgraphs, ...sources]) {
    if (seen.has(name.toLowerCase())) throw new ConfigError(`the subgraph name "${name}" is given twice`);
    seen.add(name.toLowerCase());
  }
  return { subgraphs, sources, joins };
}
