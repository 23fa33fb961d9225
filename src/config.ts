import path from 'node:path';

/** Where the store lives: the embedded SQLite file or a PostgreSQL database. */
export type StoreLocation = { dialect: 'sqlite'; file: string; embeddedDefault: boolean } | { dialect: 'postgres'; url: string };

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
  /**
   * The base of every link in a message, e.g. `https://news.example.org`. With `PORT=0`, the
   * default names the port that `serve` bound (see defaultPublicUrl).
   * @default http://HOST:PORT (localhost when HOST is a wildcard)
   */
  publicUrl: string;
  mail: MailConfig;
  signUp: SignUpConfig;
  /** Shares rate-limit counters between instances when set. @default unset: counters in memory */
  redisUrl: string | null;
  /** Proxies in front of Masthead whose X-Forwarded-For entries are trusted. @default 0 */
  trustProxyHops: number;
  limits: Limits;
  http: HttpConfig;
  /** Keep whole answers to public queries (see src/http/plugins/response-cache.ts and src/http/listener/cached-answer-fast-path.ts). @default true */
  responseCache: boolean;
  /** Bytes each response cache may hold, and the largest answer it keeps (larger is served, not kept). @default 64 MiB and 1 MiB */
  responseCacheBudget: { maxBytes: number; maxEntryBytes: number };
  /** What every Redis key of this deployment starts with (before the store's identity). @default 'masthead:' */
  redisPrefix: string;
  log: LogConfig;
  live: LiveConfig;
}

/** Live content: the change feed and subscriptions over SSE (docs/live.md). */
export interface LiveConfig {
  /** How long feed entries are kept: how far back a reconnecting stream can replay. @default 7 days (FEED_RETENTION=7d) */
  feedRetentionMs: number;
  /** Open subscription streams per server; one more is refused with 503. @default 10000 */
  maxStreams: number;
  /** Open subscription streams per client address; one more is refused with 429. @default 100 */
  maxStreamsPerClient: number;
  /** Seconds between heartbeat comments on a stream (proxies close idle connections). @default 15 */
  heartbeatSeconds: number;
  /** Bytes a stream may have queued for a slow reader; past it, no more events are taken until it catches up. @default 1048576 */
  maxBufferedBytes: number;
  /** Seconds a stream past maxBufferedBytes may wait for its reader; then it is closed (the client resumes with Last-Event-ID). @default 30 */
  stallSeconds: number;
}

/** How the server logs. */
export interface LogConfig {
  /** debug, info, warn, error or silent. @default 'info' */
  level: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /** json (one object a line) or text (for people). @default json when NODE_ENV=production, else text */
  format: 'json' | 'text';
}

/** What a single request may ask; each is refused before it runs. */
export interface Limits {
  /** @default 15 */
  maxDepth: number;
  /** Objects a query may return (see QueryAnalysis.cost). @default 10000 */
  maxCost: number;
  /** @default 30 */
  maxAliases: number;
  /** @default 20 */
  maxDirectives: number;
  /** @default 5000 */
  maxTokens: number;
  /** Representations in one `_entities` call. @default 500 */
  maxRepresentations: number;
  /** Times one field (response key) may be asked in one selection set, fragments spread there included. @default 100 */
  maxRepeatedField: number;
  /** Operations in one batched request (a JSON array body). @default 10 */
  maxBatch: number;
  /** @default true */
  introspection: boolean;
  /** Cost points an API key may spend per window, unless the key has its own budget. @default 200000/1m */
  costBudgetPerKey: RateLimit;
}

export interface HttpConfig {
  /** The largest request body; larger is a 413. @default 1048576 */
  maxBodyBytes: number;
  /** A request must arrive whole within this time. @default 30000 */
  requestTimeoutMs: number;
  /** Origins allowed to call from browsers; empty: none (no CORS headers). @default [] */
  corsOrigins: string[];
  /** Requests per client address (all operations). @default 600/1m */
  perClient: RateLimit;
  /** Requests per API key. @default 6000/1m */
  perKey: RateLimit;
  /** A manifest of trusted documents; when set, anonymous callers may run only those. @default null */
  trustedDocuments: string | null;
  /** `max-age` for anonymous GET queries that succeed; 0 sends no-store. @default 30 */
  cacheMaxAgeSeconds: number;
}

export interface MailConfig {
  /** `smtp://` or `smtps://` URL of the server that delivers mail; null writes messages to `dir`. @default null */
  smtpUrl: string | null;
  /** The From header. @default 'Masthead <newsletters@localhost>' */
  from: string;
  /** Where messages are written when there is no SMTP server. @default ./data/mail */
  dir: string;
  /** The first retry waits this long; each further one twice as long, up to an hour. @default 30000 */
  retryBaseMs: number;
  /** Attempts before a message is given up as failed. @default 8 */
  maxAttempts: number;
  /** How often the sender looks for messages due, besides being woken by a sign-up. @default 2000 */
  pollMs: number;
  /** Whether this process delivers the outbox (off: web-only instances, another sends). @default true */
  sender: boolean;
}

/** A budget of `limit` events per `windowMs`; a limit of 0 switches it off. */
export interface RateLimit {
  limit: number;
  windowMs: number;
}

export interface SignUpConfig {
  /** How long a confirmation link works. @default 48 hours */
  confirmTokenTtlMs: number;
  /** How long an unsubscribe link works. @default 365 days */
  unsubscribeTokenTtlMs: number;
  /** Sign-ups per client address. @default 20 per 10 minutes */
  perClient: RateLimit;
  /** Sign-ups per e-mail address. @default 5 per hour */
  perEmail: RateLimit;
  /** The version of the consent wording, recorded when a sign-up does not name its own. @default '1' */
  consentVersion: string;
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
  throw new ConfigError(`DATABASE_URL must start with sqlite:, file:, postgres:// or postgresql://, got ${JSON.stringify(raw)}`);
}

/** The store as logs and errors name it: the SQLite file, or the PostgreSQL URL without its password. */
export function describeStore(store: StoreLocation): string {
  if (store.dialect === 'sqlite') return `SQLite file ${store.file}`;
  try {
    const url = new URL(store.url);
    if (url.password !== '') url.password = '***';
    return `PostgreSQL database ${url.toString()}`;
  } catch {
    return 'PostgreSQL database (DATABASE_URL)';
  }
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

  const maxPageSize = env.MAX_PAGE_SIZE === undefined || env.MAX_PAGE_SIZE === '' ? 100 : parseIntegerSetting('MAX_PAGE_SIZE', env.MAX_PAGE_SIZE, 1, 10000);

  const optionalInteger = (name: string, fallback: number, min: number, max: number) => {
    const raw = env[name];
    return raw === undefined || raw === '' ? fallback : parseIntegerSetting(name, raw, min, max);
  };
  const poolSize = optionalInteger('DATABASE_POOL_SIZE', 10, 1, 1000);
  const statementTimeoutMs = optionalInteger('DATABASE_STATEMENT_TIMEOUT_MS', 10_000, 0, 3_600_000);
  const connectTimeoutMs = optionalInteger('DATABASE_CONNECT_TIMEOUT_MS', 3000, 100, 600_000);

  const publicUrl = parsePublicUrl(env.PUBLIC_URL, host, port);
  const mail: MailConfig = {
    smtpUrl: parseServiceUrl('SMTP_URL', env.SMTP_URL, ['smtp:', 'smtps:']),
    from: parseMailFrom(env.MAIL_FROM),
    dir: path.resolve(cwd, env.MAIL_DIR === undefined || env.MAIL_DIR === '' ? DEFAULT_MAIL_DIR : env.MAIL_DIR),
    retryBaseMs: optionalInteger('MAIL_RETRY_BASE_MS', 30_000, 10, 3_600_000),
    maxAttempts: optionalInteger('MAIL_MAX_ATTEMPTS', 8, 1, 100),
    pollMs: optionalInteger('MAIL_POLL_MS', 2000, 10, 3_600_000),
    sender: parseSwitch('MAIL_SENDER', env.MAIL_SENDER, true),
  };
  if (mail.dir.includes('\0')) throw new ConfigError(`MAIL_DIR contains a NUL byte: ${JSON.stringify(env.MAIL_DIR)}`);
  const consentVersion = env.CONSENT_VERSION === undefined || env.CONSENT_VERSION === '' ? '1' : env.CONSENT_VERSION.trim();
  if (!/^[\x21-\x7e]{1,100}$/.test(consentVersion)) {
    throw new ConfigError(`CONSENT_VERSION must be 1 to 100 printable ASCII characters, got ${JSON.stringify(env.CONSENT_VERSION)}`);
  }
  const signUp: SignUpConfig = {
    confirmTokenTtlMs: optionalInteger('CONFIRM_TOKEN_TTL_HOURS', 48, 1, 8760) * HOUR_MS,
    unsubscribeTokenTtlMs: optionalInteger('UNSUBSCRIBE_TOKEN_TTL_DAYS', 365, 1, 3650) * 24 * HOUR_MS,
    perClient: parseRateLimit('SUBSCRIBE_RATE_PER_CLIENT', env.SUBSCRIBE_RATE_PER_CLIENT, { limit: 20, windowMs: 10 * 60_000 }),
    perEmail: parseRateLimit('SUBSCRIBE_RATE_PER_EMAIL', env.SUBSCRIBE_RATE_PER_EMAIL, { limit: 5, windowMs: HOUR_MS }),
    consentVersion,
  };
  const redisUrl = parseServiceUrl('REDIS_URL', env.REDIS_URL, ['redis:', 'rediss:']);
  const trustProxyHops = optionalInteger('TRUST_PROXY_HOPS', 0, 0, 10);
  const limits: Limits = {
    maxDepth: optionalInteger('MAX_DEPTH', 15, 1, 1000),
    maxCost: optionalInteger('MAX_COST', 10_000, 1, 100_000_000),
    maxAliases: optionalInteger('MAX_ALIASES', 30, 0, 100_000),
    maxDirectives: optionalInteger('MAX_DIRECTIVES', 20, 0, 100_000),
    maxTokens: optionalInteger('MAX_TOKENS', 5000, 100, 1_000_000),
    maxRepresentations: optionalInteger('MAX_REPRESENTATIONS', 500, 1, 100_000),
    maxRepeatedField: optionalInteger('MAX_REPEATED_FIELD', 100, 1, 100_000),
    maxBatch: optionalInteger('MAX_BATCH', 10, 1, 1000),
    introspection: parseSwitch('INTROSPECTION', env.INTROSPECTION, true),
    costBudgetPerKey: parseRateLimit('COST_BUDGET_PER_KEY', env.COST_BUDGET_PER_KEY, { limit: 200_000, windowMs: 60_000 }),
  };
  const http: HttpConfig = {
    maxBodyBytes: optionalInteger('MAX_BODY_BYTES', 1_048_576, 1024, 1_073_741_824),
    requestTimeoutMs: optionalInteger('REQUEST_TIMEOUT_MS', 30_000, 1000, 3_600_000),
    corsOrigins: parseOrigins(env.CORS_ORIGINS),
    perClient: parseRateLimit('RATE_LIMIT_PER_CLIENT', env.RATE_LIMIT_PER_CLIENT, { limit: 600, windowMs: 60_000 }),
    perKey: parseRateLimit('RATE_LIMIT_PER_KEY', env.RATE_LIMIT_PER_KEY, { limit: 6000, windowMs: 60_000 }),
    trustedDocuments: env.TRUSTED_DOCUMENTS === undefined || env.TRUSTED_DOCUMENTS === '' ? null : path.resolve(cwd, env.TRUSTED_DOCUMENTS),
    cacheMaxAgeSeconds: optionalInteger('CACHE_MAX_AGE_SECONDS', 30, 0, 86_400),
  };

  // Live content (docs/live.md): the change feed and subscription streams.
  const live: LiveConfig = {
    feedRetentionMs: parseDuration('FEED_RETENTION', env.FEED_RETENTION, 7 * 24 * HOUR_MS, 60_000, 365 * 24 * HOUR_MS),
    maxStreams: optionalInteger('LIVE_MAX_STREAMS', 10_000, 0, 1_000_000),
    maxStreamsPerClient: optionalInteger('LIVE_MAX_STREAMS_PER_CLIENT', 100, 0, 1_000_000),
    heartbeatSeconds: optionalInteger('LIVE_HEARTBEAT_SECONDS', 15, 1, 15),
    maxBufferedBytes: optionalInteger('LIVE_MAX_BUFFERED_BYTES', 1_048_576, 4096, 1_073_741_824),
    stallSeconds: optionalInteger('LIVE_STALL_SECONDS', 30, 1, 3600),
  };

  return {
    live,
    port,
    host,
    store,
    demoContent,
    maxPageSize,
    poolSize,
    statementTimeoutMs,
    connectTimeoutMs,
    publicUrl,
    mail,
    signUp,
    redisUrl,
    trustProxyHops,
    limits,
    http,
    responseCache: parseSwitch('RESPONSE_CACHE', env.RESPONSE_CACHE, true),
    responseCacheBudget: parseCacheBudget(env),
    redisPrefix: parseRedisPrefix(env.REDIS_PREFIX),
    log: {
      level: parseChoice('LOG_LEVEL', env.LOG_LEVEL, ['debug', 'info', 'warn', 'error', 'silent'], 'info'),
      format: parseChoice('LOG_FORMAT', env.LOG_FORMAT, ['json', 'text'], env.NODE_ENV?.trim() === 'production' ? 'json' : 'text'),
    },
  };
}

function parseChoice<T extends string>(name: string, raw: string | undefined, choices: readonly T[], fallback: T): T {
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = raw.trim().toLowerCase();
  const chosen = choices.find((choice) => choice === value);
  if (chosen === undefined) throw new ConfigError(`${name} must be one of ${choices.join(', ')}, got ${JSON.stringify(raw)}`);
  return chosen;
}

function parseCacheBudget(env: Env): Config['responseCacheBudget'] {
  const bytes = (name: string, fallback: number, min: number) => {
    const raw = env[name];
    return raw === undefined || raw === '' ? fallback : parseIntegerSetting(name, raw, min, 17_179_869_184);
  };
  const maxBytes = bytes('RESPONSE_CACHE_MAX_BYTES', 64 * 1024 * 1024, 65_536);
  const maxEntryBytes = bytes('RESPONSE_CACHE_MAX_ENTRY_BYTES', Math.min(1024 * 1024, maxBytes), 1024);
  if (maxEntryBytes > maxBytes) {
    throw new ConfigError(
      `RESPONSE_CACHE_MAX_ENTRY_BYTES must not be larger than RESPONSE_CACHE_MAX_BYTES (${maxBytes}), got ${JSON.stringify(env.RESPONSE_CACHE_MAX_ENTRY_BYTES)}`,
    );
  }
  return { maxBytes, maxEntryBytes };
}

function parseRedisPrefix(raw: string | undefined): string {
  if (raw === undefined || raw === '') return 'masthead:';
  if (!/^[\x21-\x7e]{1,100}$/.test(raw)) {
    throw new ConfigError(`REDIS_PREFIX must be 1 to 100 printable ASCII characters without spaces, got ${JSON.stringify(raw)}`);
  }
  return raw;
}

function parseSwitch(name: string, raw: string | undefined, fallback: boolean): boolean {
  if (raw === undefined || raw === '') return fallback;
  const value = raw.trim().toLowerCase();
  if (['1', 'on', 'true'].includes(value)) return true;
  if (['0', 'off', 'false'].includes(value)) return false;
  throw new ConfigError(`${name} must be on or off (or 1 or 0), got ${JSON.stringify(raw)}`);
}

function parseOrigins(raw: string | undefined): string[] {
  if (raw === undefined || raw.trim() === '') return [];
  return raw.split(',').map((entry) => {
    const value = entry.trim();
    if (value === '*') return value;
    let url: URL | null = null;
    try {
      url = new URL(value);
    } catch {
      url = null;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin !== value.replace(/\/$/, '')) {
      throw new ConfigError(`CORS_ORIGINS must be * or a comma-separated list of origins like https://news.example.org, got ${JSON.stringify(raw)}`);
    }
    return url.origin;
  });
}

export const DEFAULT_MAIL_DIR = './data/mail';
const HOUR_MS = 3_600_000;
const DURATION_UNITS: Record<string, number> = { s: 1000, m: 60_000, h: HOUR_MS, d: 24 * HOUR_MS };

/** PUBLIC_URL when it is not set: where this host and port are reached from this machine. */
export function defaultPublicUrl(host: string, port: number): string {
  const wildcard = host === '0.0.0.0' || host === '::' || host === '[::]';
  return `http://${wildcard ? 'localhost' : host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}`;
}

function parsePublicUrl(raw: string | undefined, host: string, port: number): string {
  if (raw === undefined || raw === '') return defaultPublicUrl(host, port);
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new ConfigError(`PUBLIC_URL must be an http:// or https:// URL, got ${JSON.stringify(raw)}`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.search !== '' || url.hash !== '' || url.username !== '') {
    throw new ConfigError(`PUBLIC_URL must be an http:// or https:// URL without query, fragment or user, got ${JSON.stringify(raw)}`);
  }
  return url.href.replace(/\/+$/, '');
}

function parseServiceUrl(name: string, raw: string | undefined, protocols: string[]): string | null {
  if (raw === undefined || raw === '') return null;
  const expected = protocols.map((p) => `${p}//`).join(' or ');
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new ConfigError(`${name} must be a ${expected} URL, got ${JSON.stringify(redact(raw))}`);
  }
  if (!protocols.includes(url.protocol) || url.hostname === '') {
    throw new ConfigError(`${name} must be a ${expected} URL with a host, got ${JSON.stringify(redact(raw))}`);
  }
  return raw.trim();
}

/** A URL as it may appear in an error message: without its password. */
function redact(raw: string): string {
  return raw.replace(/(\/\/[^:/@]*:)[^@/]*@/, '$1***@');
}

function parseMailFrom(raw: string | undefined): string {
  if (raw === undefined || raw === '') return 'Masthead <newsletters@localhost>';
  const value = raw.trim();
  const address = /^[^<>\r\n"]*<([^<>\s@]+@[^<>\s@]+)>$/.exec(value)?.[1] ?? (/^[^<>\s@]+@[^<>\s@]+$/.test(value) ? value : null);
  if (address === null || value.length > 300) {
    throw new ConfigError(`MAIL_FROM must be an address or "Name <address>", got ${JSON.stringify(raw)}`);
  }
  return value;
}

/** A duration such as 90s, 30m, 12h or 7d, within [min, max] milliseconds. */
function parseDuration(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined || raw.trim() === '') return fallback;
  const match = /^(\d{1,7})(s|m|h|d)$/.exec(raw.trim());
  const unit = match?.[2] ? DURATION_UNITS[match[2]] : undefined;
  const value = match && unit !== undefined ? Number(match[1]) * unit : Number.NaN;
  if (!(value >= min && value <= max)) {
    throw new ConfigError(`${name} must be a duration like 7d, 12h, 30m or 90s, from ${min / 1000}s to ${max / HOUR_MS / 24}d; got ${JSON.stringify(raw)}`);
  }
  return value;
}

function parseRateLimit(name: string, raw: string | undefined, fallback: RateLimit): RateLimit {
  if (raw === undefined || raw === '') return fallback;
  const value = raw.trim();
  if (value === '0' || value === 'off') return { limit: 0, windowMs: fallback.windowMs };
  const match = /^(\d{1,7})\/(\d{1,5})(s|m|h|d)$/.exec(value);
  const unit = match?.[3] ? DURATION_UNITS[match[3]] : undefined;
  if (!match || unit === undefined || Number(match[2]) === 0) {
    throw new ConfigError(`${name} must look like 20/10m (a count per s, m, h or d), or off; got ${JSON.stringify(raw)}`);
  }
  return { limit: Number(match[1]), windowMs: Number(match[2]) * unit };
}
