import path from 'node:path';

/** Where the store lives: the embedded SQLite file or a PostgreSQL database. */
export type StoreLocation =
  | { dialect: 'sqlite'; file: string; embeddedDefault: boolean }
  | { dialect: 'postgres'; url: string };

export interface Config {
  /** @default 4000 */
  port: number;
  /** @default '127.0.0.1' */
  host: string;
  store: StoreLocation;
  /** Load the demo corpus into an empty store at start. @default true for the embedded default store, else false */
  demoContent: boolean;
  /** The largest `first` a connection accepts. @default 100 */
  maxPageSize: number;
  /** PostgreSQL connections per instance. @default 10 */
  poolSize: number;
  /** How long a statement may run before the store cancels it; 0 for no limit. @default 10000 */
  statementTimeoutMs: number;
  /** How long to wait for a new store connection before failing the request. @default 3000 */
  connectTimeoutMs: number;
}

/** A setting that cannot be used; the message names the setting and what is wrong with it. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export const DEFAULT_SQLITE_FILE = './data/masthead.sqlite';

type Env = Readonly<Record<string, string | undefined>>;

function parseIntegerSetting(name: string, raw: string, min: number, max: number): number {
  if (!/^\d+$/.test(raw.trim())) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  const value = Number(raw.trim());
  if (value < min || value > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

export function parseStoreLocation(raw: string | undefined, cwd: string): StoreLocation {
  if (raw === undefined || raw === '') {
    return { dialect: 'sqlite', file: path.resolve(cwd, DEFAULT_SQLITE_FILE), embeddedDefault: true };
  }
  const value = raw.trim();
  const sqlite = /^(?:sqlite|file):(.*)$/i.exec(value);
  if (sqlite) {
    let file = sqlite[1] ?? '';
    if (file.startsWith('//')) file = file.slice(2);
    if (file === '') throw new ConfigError(`DATABASE_URL names no SQLite file: ${JSON.stringify(raw)} (use sqlite:PATH)`);
    if (file.includes('\0')) throw new ConfigError(`DATABASE_URL contains a NUL byte: ${JSON.stringify(raw)}`);
    return { dialect: 'sqlite', file: path.resolve(cwd, file), embeddedDefault: false };
  }
  if (/^postgres(?:ql)?:\/\//i.test(value)) {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new ConfigError(`DATABASE_URL is not a valid PostgreSQL URL: ${JSON.stringify(raw)}`);
    }
    if (url.hostname === '' && !url.searchParams.has('host')) {
      throw new ConfigError(`DATABASE_URL names no PostgreSQL host: ${JSON.stringify(raw)}`);
    }
    return { dialect: 'postgres', url: value };
  }
  throw new ConfigError(
    `DATABASE_URL must start with sqlite:, file:, postgres:// or postgresql://, got ${JSON.stringify(raw)}`,
  );
}

/** Reads and validates every setting; throws a ConfigError naming the first bad one. */
export function loadConfig(env: Env = process.env, cwd: string = process.cwd()): Config {
  const port = env.PORT === undefined || env.PORT === '' ? 4000 : parseIntegerSetting('PORT', env.PORT, 0, 65535);

  const host = env.HOST === undefined || env.HOST === '' ? '127.0.0.1' : env.HOST.trim();
  if (!/^[A-Za-z0-9.:\-[\]%]+$/.test(host)) {
    throw new ConfigError(`HOST must be a host name or IP address, got ${JSON.stringify(env.HOST)}`);
  }

  const store = parseStoreLocation(env.DATABASE_URL, cwd);

  let demoContent: boolean;
  if (env.DEMO_CONTENT === undefined || env.DEMO_CONTENT === '') {
    demoContent = store.dialect === 'sqlite' && store.embeddedDefault;
  } else if (env.DEMO_CONTENT === '0' || env.DEMO_CONTENT === '1') {
    demoContent = env.DEMO_CONTENT === '1';
  } else {
    throw new ConfigError(`DEMO_CONTENT must be 0 or 1, got ${JSON.stringify(env.DEMO_CONTENT)}`);
  }

  const maxPageSize =
    env.MAX_PAGE_SIZE === undefined || env.MAX_PAGE_SIZE === ''
      ? 100
      : parseIntegerSetting('MAX_PAGE_SIZE', env.MAX_PAGE_SIZE, 1, 10000);

  const optionalInteger = (name: string, fallback: number, min: number, max: number) => {
    const raw = env[name];
    return raw === undefined || raw === '' ? fallback : parseIntegerSetting(name, raw, min, max);
  };
  const poolSize = optionalInteger('DATABASE_POOL_SIZE', 10, 1, 1000);
  const statementTimeoutMs = optionalInteger('DATABASE_STATEMENT_TIMEOUT_MS', 10_000, 0, 3_600_000);
  const connectTimeoutMs = optionalInteger('DATABASE_CONNECT_TIMEOUT_MS', 3000, 100, 600_000);

  return { port, host, store, demoContent, maxPageSize, poolSize, statementTimeoutMs, connectTimeoutMs };
}
