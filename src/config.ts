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
  /** Keep whole answers to public queries (see src/http/plugins/response-cache.ts, and the kept answers served by src/http/listener/pipeline.ts). @default true */
  responseCache: boolean;
  /** Bytes each response cache may hold, and the largest answer it keeps (larger is served, not kept). @default 64 MiB and 1 MiB */
  responseCacheBudget: { maxBytes: number; maxEntryBytes: number };
  /** What every Redis key of this deployment starts with (before the store's identity). @default 'masthead:' */
  redisPrefix: string;
  log: LogConfig;
  live: LiveConfig;
  tracing: TracingConfig;
  gateway: GatewayConfig;
  webhooks: WebhookConfig;
}

/** How `masthead gateway` treats its clients' headers and its subgraphs' schemas (docs/federation.md). */
export interface GatewayConfig {
  /** Client request headers sent on to every subgraph, lower-case. @default ['authorization', 'x-request-id'] */
  forwardHeaders: string[];
  /** How often the supergraph is composed again from the subgraphs, in ms; 0 for never. @default 30000 */
  pollIntervalMs: number;
  /** Which query planner plans over Federation subgraphs. @default 'router' */
  queryPlanner: 'router' | 'js';
}

/** Webhooks and CDN keys (docs/webhooks.md): how deliveries are made, retried and given up. */
export interface WebhookConfig {
  /** Receivers may be on loopback, private or link-local addresses (tests, a private network). @default false */
  allowPrivateAddresses: boolean;
  /** How long one attempt may take, connecting and answering. @default 10000 */
  timeoutMs: number;
  /** Attempts before a delivery is given up. @default 10 */
  maxAttempts: number;
  /** The first retry waits about this long; each further one twice as long (with jitter), up to retryMaxMs. @default 5000 */
  retryBaseMs: number;
  /** The longest wait between attempts. @default 3600000 */
  retryMaxMs: number;
  /** Failed attempts in a row after which an endpoint is switched off. @default 20 */
  disableAfterFailures: number;
  /** Deliveries this process makes at once (to different endpoints). @default 8 */
  concurrency: number;
  /** How often the worker looks for due deliveries, besides being woken by the feed. @default 1000 */
  pollMs: number;
  /** Whether this process writes and delivers webhooks (off: another instance does). @default true */
  sender: boolean;
  /** Longest `Surrogate-Key` / `Cache-Tag` header; past it an answer carries its types' keys. @default 8192 */
  cacheKeyHeaderMaxBytes: number;
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

/** OpenTelemetry traces (see src/tracing/tracing.ts). */
export interface TracingConfig {
  /** The OTLP/HTTP collector's base URL; spans go to its `/v1/traces`. @default null: no tracing, and nothing of OpenTelemetry loaded */
  endpoint: string | null;
  /** The `service.name` of every span. @default 'masthead' */
  serviceName: string;
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
export const DEFAULT_MAIL_DIR = './data/mail';
const HOUR_MS = 3_600_000;
const DURATION_UNITS: Record<string, number> = { s: 1000, m: 60_000, h: HOUR_MS, d: 24 * HOUR_MS };

type Env = Readonly<Record<string, string | undefined>>;

/** What a parser or a computed default may look at: the environment (for defaults that follow other settings) and the working folder. */
export interface SettingContext {
  env: Env;
  cwd: string;
}

/**
 * One setting, declared once: the table below keys it by its environment variable; its default,
 * parser and description live here, and docs/configuration.md's table is generated from them
 * (`npm run docs:settings`; tests/settings-docs.test.ts fails when a doc disagrees).
 *
 * A small table of hand-written parsers rather than a zod or valibot schema: several defaults and
 * checks follow other settings (PUBLIC_URL from HOST and PORT, DEMO_CONTENT from DATABASE_URL, the
 * cache entry budget from the cache budget), the error messages are part of the command line's
 * surface (one line naming the setting and quoting the value, pinned by tests), and the value kinds
 * are few (whole numbers, switches, choices, rates, URLs); a schema library would add a dependency
 * and a message-mapping layer without removing any of these parsers.
 */
export interface Setting<T> {
  /** The value when the variable is unset or blank: a value, or computed from the other settings. */
  default: T | ((context: SettingContext) => T);
  /** The default as the docs show it (Markdown). */
  defaultText: string;
  /** What the setting does and what it accepts, as the docs show it (Markdown, one line). */
  description: string;
  /** Reads a value that is set; throws a ConfigError naming the setting and quoting the value. */
  parse(raw: string, name: string, context: SettingContext): T;
}

interface SettingSpec<T> {
  default: T | ((context: SettingContext) => T);
  /** Required when the default is computed; else the plain default, in code quotes. */
  defaultText?: string;
  description: string;
}

function setting<T>(spec: SettingSpec<T>, parse: Setting<T>['parse'], show: (value: T) => string = String): Setting<T> {
  let defaultText = spec.defaultText;
  if (defaultText === undefined) {
    if (typeof spec.default === 'function') throw new Error(`a computed default needs a defaultText (${spec.description})`);
    defaultText = `\`${show(spec.default as T)}\``;
  }
  return { default: spec.default, defaultText, description: spec.description, parse };
}

/** A whole number from min to max. */
function wholeNumber(spec: SettingSpec<number> & { min: number; max: number }): Setting<number> {
  return setting(spec, (raw, name) => parseWholeNumber(name, raw, spec.min, spec.max));
}

/** on/off (also 1/0, true/false). */
function onOff(spec: SettingSpec<boolean>): Setting<boolean> {
  return setting(
    spec,
    (raw, name) => parseSwitch(name, raw),
    (value) => (value ? 'on' : 'off'),
  );
}

/** One of a few words, case-insensitive. */
function choice<const T extends string>(choices: readonly T[], spec: SettingSpec<T>): Setting<T> {
  return setting(spec, (raw, name) => {
    const value = raw.trim().toLowerCase();
    const chosen = choices.find((candidate) => candidate === value);
    if (chosen === undefined) throw new ConfigError(`${name} must be one of ${choices.join(', ')}, got ${JSON.stringify(raw)}`);
    return chosen;
  });
}

/** COUNT/WINDOW (`20/10m`), or off. */
function rate(spec: SettingSpec<RateLimit> & { default: RateLimit }): Setting<RateLimit> {
  return setting(spec, (raw, name) => parseRateLimit(name, raw, spec.default.windowMs), showRate);
}

/** A URL of one of the protocols, or unset (null). */
function serviceUrl(protocols: string[], spec: Omit<SettingSpec<string | null>, 'default'>): Setting<string | null> {
  return setting({ ...spec, default: null }, (raw, name) => parseServiceUrl(name, raw, protocols));
}

/** A value read by hand, for the kinds that occur once. */
function custom<T>(spec: SettingSpec<T>, parse: Setting<T>['parse'], show?: (value: T) => string): Setting<T> {
  return setting(spec, parse, show);
}

/**
 * Every setting, by its environment variable, in one block per area. To add one: declare it in
 * its area's block (a new area gets its own block with a heading comment), map it into `Config`
 * in loadConfig, then run `npm run docs:settings` (see docs/development.md, "Adding a setting").
 */
export const SETTINGS = {
  // ── Listening and links ──────────────────────────────────────────────────────────────────
  PORT: wholeNumber({ default: 4000, min: 0, max: 65535, description: 'port to listen on (0 to 65535; 0 picks a free one, and the log says which)' }),
  HOST: custom<string>({ default: '127.0.0.1', description: 'address to listen on (`0.0.0.0` for all)' }, (raw, name) => {
    const host = raw.trim();
    if (!/^[A-Za-z0-9.:\-[\]%]+$/.test(host)) throw new ConfigError(`${name} must be a host name or IP address, got ${JSON.stringify(raw)}`);
    return host;
  }),
  PUBLIC_URL: custom<string>(
    {
      default: (context): string => defaultPublicUrl(readSetting('HOST', context), readSetting('PORT', context)),
      defaultText: '`http://HOST:PORT`',
      description:
        'the base of every link in an e-mail, as readers reach Masthead, e.g. `https://news.example.org` (a path prefix is kept); unset, `localhost` stands for a `HOST` of `0.0.0.0`, and with `PORT=0` the port is the one `serve` bound, as its log says',
    },
    (raw, name) => parsePublicUrl(name, raw),
  ),

  // ── Store ────────────────────────────────────────────────────────────────────────────────
  DATABASE_URL: custom<StoreLocation>(
    {
      default: (context): StoreLocation => parseStoreLocation(undefined, context.cwd),
      defaultText: `\`${DEFAULT_SQLITE_FILE}\``,
      description:
        '`sqlite:PATH` or `file:PATH` for that SQLite file (relative to the working folder; WAL mode); `postgres://…` or `postgresql://…` for PostgreSQL',
    },
    (raw, _name, context) => parseStoreLocation(raw, context.cwd),
  ),
  DEMO_CONTENT: custom<boolean>(
    {
      default: (context): boolean => {
        const store = readSetting('DATABASE_URL', context);
        return store.dialect === 'sqlite' && store.embeddedDefault;
      },
      defaultText: '`1` for the embedded default store, else `0`',
      description: '`1`: load the demo corpus into an empty store at start; `0`: never',
    },
    (raw, name) => {
      if (raw === '0' || raw === '1') return raw === '1';
      throw new ConfigError(`${name} must be 0 or 1, got ${JSON.stringify(raw)}`);
    },
  ),
  DATABASE_POOL_SIZE: wholeNumber({ default: 10, min: 1, max: 1000, description: 'PostgreSQL connections per instance (1 to 1000)' }),
  DATABASE_STATEMENT_TIMEOUT_MS: wholeNumber({
    default: 10_000,
    min: 0,
    max: 3_600_000,
    description: 'PostgreSQL cancels a statement that runs longer (0: no limit)',
  }),
  DATABASE_CONNECT_TIMEOUT_MS: wholeNumber({
    default: 3000,
    min: 100,
    max: 600_000,
    description: 'how long a request waits for a new PostgreSQL connection before failing (100 to 600000)',
  }),

  // ── Sign-ups and mail ───────────────────────────────────────────────────────────────────
  SMTP_URL: serviceUrl(['smtp:', 'smtps:'], {
    defaultText: 'unset (mail is written to `MAIL_DIR`)',
    description: "`smtp://user:pass@host:587` (STARTTLS when offered) or `smtps://…:465`; Nodemailer's URL options apply",
  }),
  MAIL_FROM: custom<string>(
    { default: 'Masthead <newsletters@localhost>', description: 'the `From` of every message: `address` or `Name <address>`' },
    (raw, name) => parseMailFrom(name, raw),
  ),
  MAIL_DIR: custom<string>(
    {
      default: (context): string => path.resolve(context.cwd, DEFAULT_MAIL_DIR),
      defaultText: `\`${DEFAULT_MAIL_DIR}\``,
      description: 'where messages go as `.eml` files when `SMTP_URL` is unset (relative to the working folder)',
    },
    (raw, name, context) => {
      if (raw.includes('\0')) throw new ConfigError(`${name} contains a NUL byte: ${JSON.stringify(raw)}`);
      return path.resolve(context.cwd, raw);
    },
  ),
  MAIL_RETRY_BASE_MS: wholeNumber({ default: 30_000, min: 10, max: 3_600_000, description: "the first retry's delay; each next one doubles, up to an hour" }),
  MAIL_MAX_ATTEMPTS: wholeNumber({ default: 8, min: 1, max: 100, description: 'attempts before a message is given up (1 to 100)' }),
  MAIL_POLL_MS: wholeNumber({
    default: 2000,
    min: 10,
    max: 3_600_000,
    description: 'how often the sender looks for due messages (a sign-up also wakes it at once)',
  }),
  MAIL_SENDER: onOff({ default: true, description: '`off`: this instance only queues mail; run the sender on others' }),
  CONFIRM_TOKEN_TTL_HOURS: wholeNumber({ default: 48, min: 1, max: 8760, description: 'how long a confirmation link works (1 to 8760)' }),
  UNSUBSCRIBE_TOKEN_TTL_DAYS: wholeNumber({ default: 365, min: 1, max: 3650, description: 'how long an unsubscribe link works (1 to 3650)' }),
  SUBSCRIBE_RATE_PER_CLIENT: rate({
    default: { limit: 20, windowMs: 10 * 60_000 },
    description: 'sign-ups per client address: `COUNT/WINDOW` with `s`, `m`, `h` or `d`; `off` (or `0`) to switch off',
  }),
  SUBSCRIBE_RATE_PER_EMAIL: rate({ default: { limit: 5, windowMs: HOUR_MS }, description: 'sign-ups per e-mail address, the same form' }),
  CONSENT_VERSION: custom<string>({ default: '1', description: 'the consent wording version recorded when a sign-up names none' }, (raw, name) => {
    const value = raw.trim();
    if (!/^[\x21-\x7e]{1,100}$/.test(value)) throw new ConfigError(`${name} must be 1 to 100 printable ASCII characters, got ${JSON.stringify(raw)}`);
    return value;
  }),

  // ── Sharing between instances, and the response cache ──────────────────────────────────
  REDIS_URL: serviceUrl(['redis:', 'rediss:'], {
    defaultText: 'unset (counters and cached answers in memory)',
    description: '`redis://…` or `rediss://…`: rate-limit counters and the response cache shared by every instance',
  }),
  REDIS_PREFIX: custom<string>(
    {
      default: 'masthead:',
      description:
        "what every Redis key of the deployment starts with; the store's own random identity (written once, when it is made) follows it, so two deployments on one Redis never share a key, even with the same prefix (a copy of a database, e.g. a restored backup, carries its identity: give the copy's deployment its own prefix)",
    },
    (raw, name) => {
      if (!/^[\x21-\x7e]{1,100}$/.test(raw))
        throw new ConfigError(`${name} must be 1 to 100 printable ASCII characters without spaces, got ${JSON.stringify(raw)}`);
      return raw;
    },
  ),
  RESPONSE_CACHE: onOff({
    default: true,
    description:
      'whole answers to public queries are kept until the content changes or a scheduled piece comes out (see Benchmark); `off`: every request is computed',
  }),
  RESPONSE_CACHE_MAX_BYTES: wholeNumber({
    default: 64 * 1024 * 1024,
    min: 65_536,
    max: 17_179_869_184,
    defaultText: '`67108864` (64 MiB)',
    description:
      "bytes each response cache may hold, answers and their keys (the in-memory store and the listener's answers each; in Redis, the deployment's whole cache); past it the least recently used (in Redis, the soonest to expire) go",
  }),
  RESPONSE_CACHE_MAX_ENTRY_BYTES: custom<number>(
    {
      default: (context): number => Math.min(1024 * 1024, readSetting('RESPONSE_CACHE_MAX_BYTES', context)),
      defaultText: '`1048576` (1 MiB)',
      description: 'an answer larger than this is served and not kept (1024 or more, at most `RESPONSE_CACHE_MAX_BYTES`)',
    },
    (raw, name, context) => {
      const value = parseWholeNumber(name, raw, 1024, 17_179_869_184);
      const maxBytes = readSetting('RESPONSE_CACHE_MAX_BYTES', context);
      if (value > maxBytes) throw new ConfigError(`${name} must not be larger than RESPONSE_CACHE_MAX_BYTES (${maxBytes}), got ${JSON.stringify(raw)}`);
      return value;
    },
  ),
  CACHE_MAX_AGE_SECONDS: wholeNumber({
    default: 30,
    min: 0,
    max: 86_400,
    description: '`max-age` for anonymous GET queries that succeed (0 sends `no-store`)',
  }),

  // ── Clients, proxies and HTTP limits ───────────────────────────────────────────────────
  TRUST_PROXY_HOPS: wholeNumber({
    default: 0,
    min: 0,
    max: 10,
    description:
      "proxies of yours in front of Masthead; the client address is the `X-Forwarded-For` entry the outermost one added, counted by position from the right (`ip:port` and `[ipv6]:port` are read without the port; when that entry is not an address, the socket's address is used) (0: the socket's address, the header ignored)",
  }),
  MAX_BODY_BYTES: wholeNumber({ default: 1_048_576, min: 1024, max: 1_073_741_824, description: 'the largest request body; larger is a 413' }),
  REQUEST_TIMEOUT_MS: wholeNumber({ default: 30_000, min: 1000, max: 3_600_000, description: 'a request must arrive whole within this time (408)' }),
  RATE_LIMIT_PER_CLIENT: rate({ default: { limit: 600, windowMs: 60_000 }, description: 'requests to `/graphql` per client address; `off` to switch off' }),
  RATE_LIMIT_PER_KEY: rate({ default: { limit: 6000, windowMs: 60_000 }, description: 'requests per API key' }),
  CORS_ORIGINS: custom<string[]>(
    {
      default: [],
      defaultText: 'unset (no CORS)',
      description: 'origins allowed to call from browsers: `https://a.example,https://b.example` or `*`',
    },
    (raw, name) => parseOrigins(name, raw),
  ),
  TRUSTED_DOCUMENTS: custom<string | null>(
    { default: null, defaultText: 'unset', description: 'a manifest of trusted documents; anonymous callers may run only those' },
    (raw, _name, context) => path.resolve(context.cwd, raw),
  ),

  // ── Query limits ───────────────────────────────────────────────────────────────────────
  MAX_PAGE_SIZE: wholeNumber({ default: 100, min: 1, max: 10_000, description: 'the largest `first` a connection accepts (1 to 10000)' }),
  MAX_DEPTH: wholeNumber({ default: 15, min: 1, max: 1000, description: 'how deep a query may nest (see docs/security.md)' }),
  MAX_COST: wholeNumber({ default: 10_000, min: 1, max: 100_000_000, description: 'objects a query may return, as counted before it runs' }),
  MAX_ALIASES: wholeNumber({ default: 30, min: 0, max: 100_000, description: 'aliases in one document' }),
  MAX_DIRECTIVES: wholeNumber({ default: 20, min: 0, max: 100_000, description: 'directives in one document' }),
  MAX_TOKENS: wholeNumber({ default: 5000, min: 100, max: 1_000_000, description: 'tokens in one document' }),
  MAX_REPRESENTATIONS: wholeNumber({
    default: 500,
    min: 1,
    max: 100_000,
    description: 'representations in one `_entities` call (1 to 100000); more is a 400 `TOO_MANY_REPRESENTATIONS` before anything runs',
  }),
  MAX_REPEATED_FIELD: wholeNumber({
    default: 100,
    min: 1,
    max: 100_000,
    description:
      'times one field (response key) may be asked in one selection set, counting the fragments spread there (1 to 100000); more is a 400 `FIELD_REPEATED_TOO_OFTEN` before validation',
  }),
  MAX_BATCH: wholeNumber({ default: 10, min: 1, max: 1000, description: 'operations in one batched request (a JSON array body)' }),
  INTROSPECTION: onOff({ default: true, description: '`off` refuses introspection queries, and `_service { sdl }` to callers without an API key' }),
  COST_BUDGET_PER_KEY: rate({
    default: { limit: 200_000, windowMs: 60_000 },
    description: 'cost points an API key may spend per window, unless the key has its own',
  }),

  // ── Live content (docs/live.md) ─────────────────────────────────────────────────────────
  FEED_RETENTION: custom<number>(
    {
      default: 7 * 24 * HOUR_MS,
      defaultText: '`7d`',
      description:
        'how long the change feed keeps its entries, and so how far back a reconnecting stream can replay: a duration such as `7d`, `12h`, `30m` or `90s` (60s to 365d); the newest entry is always kept (see docs/live.md)',
    },
    (raw, name) => parseDuration(name, raw, 60_000, 365 * 24 * HOUR_MS),
  ),
  LIVE_MAX_STREAMS: wholeNumber({ default: 10_000, min: 0, max: 1_000_000, description: 'open subscription streams per server; one more is refused with 503' }),
  LIVE_MAX_STREAMS_PER_CLIENT: wholeNumber({
    default: 100,
    min: 0,
    max: 1_000_000,
    description: 'open subscription streams per client address; one more is refused with 429',
  }),
  LIVE_HEARTBEAT_SECONDS: wholeNumber({ default: 15, min: 1, max: 15, description: 'seconds between heartbeat comments on an idle stream (1 to 15)' }),
  LIVE_MAX_BUFFERED_BYTES: wholeNumber({
    default: 1_048_576,
    min: 4096,
    max: 1_073_741_824,
    description:
      'bytes a stream may have queued for a slow reader; past it, no more events are taken from the feed for that stream until its reader catches up',
  }),
  LIVE_STALL_SECONDS: wholeNumber({
    default: 30,
    min: 1,
    max: 3600,
    description:
      'seconds a stream past `LIVE_MAX_BUFFERED_BYTES` may wait for its reader; then it is closed and the client resumes with `Last-Event-ID` (1 to 3600)',
  }),

  // ── Gateway (`masthead gateway` only; docs/federation.md) ───────────────────────────────
  GATEWAY_FORWARD_HEADERS: custom<string[]>(
    {
      default: ['authorization', 'x-request-id'],
      description:
        "the client request headers that `masthead gateway` sends on to every subgraph, by name, separated by commas (`none`: none); headers of the gateway's own request (`host`, `content-type`, `accept`, `content-length`, hop-by-hop ones) are refused",
    },
    (raw, name) => parseForwardHeaders(name, raw),
    (value) => value.join(','),
  ),
  GATEWAY_QUERY_PLANNER: choice(['router', 'js'], {
    default: 'router',
    description:
      "how `masthead gateway` plans queries over Federation subgraphs: `router`, Hive Router's query planner (native code, about a third less of the gateway's CPU per request), or `js`, the runtime's JavaScript one; with REST or plain GraphQL sources it is always `js`",
  }),
  GATEWAY_POLL_MS: wholeNumber({
    default: 30_000,
    min: 0,
    max: 86_400_000,
    description:
      "how often `masthead gateway` composes the supergraph again from the subgraphs (their `_service { sdl }`, or the config file's `schema` files), so that a changed subgraph is served without a restart (0: never)",
  }),

  // ── Webhooks and CDN keys (docs/webhooks.md) ──────────────────────────────────────────────
  WEBHOOK_ALLOW_PRIVATE_ADDRESSES: onOff({
    default: false,
    description:
      '`on`: webhook receivers may be on loopback, private or link-local addresses (refused by default, when an endpoint is added and again at each attempt, against the address connected to)',
  }),
  WEBHOOK_TIMEOUT_MS: wholeNumber({
    default: 10_000,
    min: 100,
    max: 300_000,
    description: 'how long one delivery attempt may take, connecting and answering (100 to 300000)',
  }),
  WEBHOOK_MAX_ATTEMPTS: wholeNumber({
    default: 18,
    min: 1,
    max: 100,
    description: 'attempts before a delivery is given up (1 to 100; by default about 2½ hours of retries)',
  }),
  WEBHOOK_RETRY_BASE_MS: wholeNumber({
    default: 250,
    min: 1,
    max: 3_600_000,
    description:
      "the first retry's mean delay: a retry waits a random time up to a window of twice this after the first failed attempt, doubling after each next one, up to `WEBHOOK_RETRY_MAX_MS`",
  }),
  WEBHOOK_RETRY_MAX_MS: custom<number>(
    { default: 3_600_000, description: 'the widest retry window: the longest wait between two attempts (at least `WEBHOOK_RETRY_BASE_MS`, at most 86400000)' },
    (raw, name, context) => {
      const value = parseWholeNumber(name, raw, 1, 86_400_000);
      const base = readSetting('WEBHOOK_RETRY_BASE_MS', context);
      if (value < base) throw new ConfigError(`${name} must not be smaller than WEBHOOK_RETRY_BASE_MS (${base}), got ${JSON.stringify(raw)}`);
      return value;
    },
  ),
  WEBHOOK_DISABLE_AFTER_FAILURES: wholeNumber({
    default: 20,
    min: 1,
    max: 100_000,
    description: 'failed attempts in a row after which an endpoint is switched off (`masthead webhooks enable ID` switches it on)',
  }),
  WEBHOOK_CONCURRENCY: wholeNumber({ default: 8, min: 1, max: 256, description: 'deliveries one instance makes at once, each to another endpoint (1 to 256)' }),
  WEBHOOK_POLL_MS: wholeNumber({
    default: 1000,
    min: 10,
    max: 3_600_000,
    description: 'how often the webhook worker looks for due retries (new events wake it at once)',
  }),
  WEBHOOK_SENDER: onOff({ default: true, description: '`off`: this instance neither writes nor delivers webhooks; other instances do' }),
  CACHE_KEY_HEADER_MAX_BYTES: wholeNumber({
    default: 8192,
    min: 256,
    max: 65_536,
    description: "the longest `Surrogate-Key` / `Cache-Tag` header (256 to 65536); past it an answer carries its types' keys instead of its entities'",
  }),

  // ── Logs ───────────────────────────────────────────────────────────────────────────────
  LOG_LEVEL: choice(['debug', 'info', 'warn', 'error', 'silent'], { default: 'info', description: '`debug`, `info`, `warn`, `error` or `silent`' }),
  LOG_FORMAT: choice(['json', 'text'], {
    default: (context) => (context.env.NODE_ENV?.trim() === 'production' ? 'json' : 'text'),
    defaultText: '`text` (`json` when `NODE_ENV=production`)',
    description: '`json`: one JSON object a line (pino), for log collectors; `text`: `TIME LEVEL message` lines for people',
  }),

  // ── Tracing (OpenTelemetry; the standard variable names) ───────────────────────────────
  OTEL_EXPORTER_OTLP_ENDPOINT: serviceUrl(['http:', 'https:'], {
    defaultText: 'unset (no tracing)',
    description:
      "an OpenTelemetry collector's OTLP/HTTP base URL, e.g. `http://otel-collector:4318`: spans of HTTP requests, GraphQL operations (parse, validate, execute) and store statements go to its `/v1/traces` as OTLP JSON; the exporter also reads the standard `OTEL_EXPORTER_OTLP_HEADERS`, `_TIMEOUT` and `_COMPRESSION`",
  }),
  OTEL_SERVICE_NAME: custom<string>(
    { default: 'masthead', description: 'the `service.name` of the spans (1 to 100 printable ASCII characters)' },
    (raw, name) => {
      const value = raw.trim();
      if (!/^[\x21-\x7e]{1,100}$/.test(value))
        throw new ConfigError(`${name} must be 1 to 100 printable ASCII characters without spaces, got ${JSON.stringify(raw)}`);
      return value;
    },
  ),
} satisfies Record<string, Setting<unknown>>;

export type SettingName = keyof typeof SETTINGS;
/** What each setting reads as. */
export type SettingValues = { [K in SettingName]: (typeof SETTINGS)[K] extends Setting<infer T> ? T : never };

/** One setting's value: its parser's reading when set (not blank), else its default. */
export function readSetting<K extends SettingName>(name: K, context: SettingContext): SettingValues[K] {
  const declared = SETTINGS[name] as Setting<SettingValues[K]>;
  const raw = context.env[name];
  if (raw === undefined || raw.trim() === '') {
    return typeof declared.default === 'function' ? (declared.default as (context: SettingContext) => SettingValues[K])(context) : declared.default;
  }
  return declared.parse(raw, name, context);
}

/** Every setting's value; throws a ConfigError naming the first bad one. */
export function readSettings(env: Env, cwd: string): SettingValues {
  const context: SettingContext = { env, cwd };
  const values: Partial<Record<SettingName, unknown>> = {};
  for (const name of Object.keys(SETTINGS) as SettingName[]) values[name] = readSetting(name, context);
  return values as SettingValues;
}

/** Reads and validates every setting; throws a ConfigError naming the first bad one. */
export function loadConfig(env: Env = process.env, cwd: string = process.cwd()): Config {
  const s = readSettings(env, cwd);
  return {
    port: s.PORT,
    host: s.HOST,
    store: s.DATABASE_URL,
    demoContent: s.DEMO_CONTENT,
    maxPageSize: s.MAX_PAGE_SIZE,
    poolSize: s.DATABASE_POOL_SIZE,
    statementTimeoutMs: s.DATABASE_STATEMENT_TIMEOUT_MS,
    connectTimeoutMs: s.DATABASE_CONNECT_TIMEOUT_MS,
    publicUrl: s.PUBLIC_URL,
    mail: {
      smtpUrl: s.SMTP_URL,
      from: s.MAIL_FROM,
      dir: s.MAIL_DIR,
      retryBaseMs: s.MAIL_RETRY_BASE_MS,
      maxAttempts: s.MAIL_MAX_ATTEMPTS,
      pollMs: s.MAIL_POLL_MS,
      sender: s.MAIL_SENDER,
    },
    signUp: {
      confirmTokenTtlMs: s.CONFIRM_TOKEN_TTL_HOURS * HOUR_MS,
      unsubscribeTokenTtlMs: s.UNSUBSCRIBE_TOKEN_TTL_DAYS * 24 * HOUR_MS,
      perClient: s.SUBSCRIBE_RATE_PER_CLIENT,
      perEmail: s.SUBSCRIBE_RATE_PER_EMAIL,
      consentVersion: s.CONSENT_VERSION,
    },
    redisUrl: s.REDIS_URL,
    trustProxyHops: s.TRUST_PROXY_HOPS,
    limits: {
      maxDepth: s.MAX_DEPTH,
      maxCost: s.MAX_COST,
      maxAliases: s.MAX_ALIASES,
      maxDirectives: s.MAX_DIRECTIVES,
      maxTokens: s.MAX_TOKENS,
      maxRepresentations: s.MAX_REPRESENTATIONS,
      maxRepeatedField: s.MAX_REPEATED_FIELD,
      maxBatch: s.MAX_BATCH,
      introspection: s.INTROSPECTION,
      costBudgetPerKey: s.COST_BUDGET_PER_KEY,
    },
    http: {
      maxBodyBytes: s.MAX_BODY_BYTES,
      requestTimeoutMs: s.REQUEST_TIMEOUT_MS,
      corsOrigins: s.CORS_ORIGINS,
      perClient: s.RATE_LIMIT_PER_CLIENT,
      perKey: s.RATE_LIMIT_PER_KEY,
      trustedDocuments: s.TRUSTED_DOCUMENTS,
      cacheMaxAgeSeconds: s.CACHE_MAX_AGE_SECONDS,
    },
    responseCache: s.RESPONSE_CACHE,
    responseCacheBudget: { maxBytes: s.RESPONSE_CACHE_MAX_BYTES, maxEntryBytes: s.RESPONSE_CACHE_MAX_ENTRY_BYTES },
    redisPrefix: s.REDIS_PREFIX,
    log: { level: s.LOG_LEVEL, format: s.LOG_FORMAT },
    live: {
      feedRetentionMs: s.FEED_RETENTION,
      maxStreams: s.LIVE_MAX_STREAMS,
      maxStreamsPerClient: s.LIVE_MAX_STREAMS_PER_CLIENT,
      heartbeatSeconds: s.LIVE_HEARTBEAT_SECONDS,
      maxBufferedBytes: s.LIVE_MAX_BUFFERED_BYTES,
      stallSeconds: s.LIVE_STALL_SECONDS,
    },
    tracing: { endpoint: s.OTEL_EXPORTER_OTLP_ENDPOINT, serviceName: s.OTEL_SERVICE_NAME },
    gateway: { forwardHeaders: s.GATEWAY_FORWARD_HEADERS, pollIntervalMs: s.GATEWAY_POLL_MS, queryPlanner: s.GATEWAY_QUERY_PLANNER },
    webhooks: {
      allowPrivateAddresses: s.WEBHOOK_ALLOW_PRIVATE_ADDRESSES,
      timeoutMs: s.WEBHOOK_TIMEOUT_MS,
      maxAttempts: s.WEBHOOK_MAX_ATTEMPTS,
      retryBaseMs: s.WEBHOOK_RETRY_BASE_MS,
      retryMaxMs: s.WEBHOOK_RETRY_MAX_MS,
      disableAfterFailures: s.WEBHOOK_DISABLE_AFTER_FAILURES,
      concurrency: s.WEBHOOK_CONCURRENCY,
      pollMs: s.WEBHOOK_POLL_MS,
      sender: s.WEBHOOK_SENDER,
      cacheKeyHeaderMaxBytes: s.CACHE_KEY_HEADER_MAX_BYTES,
    },
  };
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

/** PUBLIC_URL when it is not set: where this host and port are reached from this machine. */
export function defaultPublicUrl(host: string, port: number): string {
  const wildcard = host === '0.0.0.0' || host === '::' || host === '[::]';
  return `http://${wildcard ? 'localhost' : host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}`;
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/;
// Headers that describe the gateway's own request to the subgraph, not the client's: forwarding them would break it.
const UNFORWARDABLE = new Set([
  'host',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'te',
  'upgrade',
  'content-length',
  'content-type',
  'accept',
  'accept-encoding',
  'expect',
  'proxy-authorization',
  'proxy-connection',
]);

function parseForwardHeaders(name: string, raw: string): string[] {
  if (raw.trim().toLowerCase() === 'none') return [];
  const names = raw.split(',').map((header) => header.trim().toLowerCase());
  for (const header of names) {
    if (!HEADER_NAME.test(header)) throw new ConfigError(`${name} must be header names separated by commas, or none, got ${JSON.stringify(raw)}`);
    if (UNFORWARDABLE.has(header)) throw new ConfigError(`${name} cannot forward ${JSON.stringify(header)}: it belongs to the gateway's own request`);
  }
  return [...new Set(names)];
}

function parseWholeNumber(name: string, raw: string, min: number, max: number): number {
  const value = raw.trim();
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return Number(value);
}

function parseSwitch(name: string, raw: string): boolean {
  const value = raw.trim().toLowerCase();
  if (['1', 'on', 'true'].includes(value)) return true;
  if (['0', 'off', 'false'].includes(value)) return false;
  throw new ConfigError(`${name} must be on or off (or 1 or 0), got ${JSON.stringify(raw)}`);
}

function parseOrigins(name: string, raw: string): string[] {
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
      throw new ConfigError(`${name} must be * or a comma-separated list of origins like https://news.example.org, got ${JSON.stringify(raw)}`);
    }
    return url.origin;
  });
}

function parsePublicUrl(name: string, raw: string): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new ConfigError(`${name} must be an http:// or https:// URL, got ${JSON.stringify(raw)}`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.search !== '' || url.hash !== '' || url.username !== '') {
    throw new ConfigError(`${name} must be an http:// or https:// URL without query, fragment or user, got ${JSON.stringify(raw)}`);
  }
  return url.href.replace(/\/+$/, '');
}

function parseServiceUrl(name: string, raw: string, protocols: string[]): string {
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

function parseMailFrom(name: string, raw: string): string {
  const value = raw.trim();
  const address = /^[^<>\r\n"]*<([^<>\s@]+@[^<>\s@]+)>$/.exec(value)?.[1] ?? (/^[^<>\s@]+@[^<>\s@]+$/.test(value) ? value : null);
  if (address === null || value.length > 300) {
    throw new ConfigError(`${name} must be an address or "Name <address>", got ${JSON.stringify(raw)}`);
  }
  return value;
}

/** A duration such as 90s, 30m, 12h or 7d, within [min, max] milliseconds. */
function parseDuration(name: string, raw: string, min: number, max: number): number {
  const match = /^(\d{1,7})(s|m|h|d)$/.exec(raw.trim());
  const unit = match?.[2] ? DURATION_UNITS[match[2]] : undefined;
  const value = match && unit !== undefined ? Number(match[1]) * unit : Number.NaN;
  if (!(value >= min && value <= max)) {
    throw new ConfigError(`${name} must be a duration like 7d, 12h, 30m or 90s, from ${min / 1000}s to ${max / HOUR_MS / 24}d; got ${JSON.stringify(raw)}`);
  }
  return value;
}

function parseRateLimit(name: string, raw: string, windowMsWhenOff: number): RateLimit {
  const value = raw.trim();
  if (value === '0' || value === 'off') return { limit: 0, windowMs: windowMsWhenOff };
  const match = /^(\d{1,7})\/(\d{1,5})(s|m|h|d)$/.exec(value);
  const unit = match?.[3] ? DURATION_UNITS[match[3]] : undefined;
  if (!match || unit === undefined || Number(match[2]) === 0) {
    throw new ConfigError(`${name} must look like 20/10m (a count per s, m, h or d), or off; got ${JSON.stringify(raw)}`);
  }
  return { limit: Number(match[1]), windowMs: Number(match[2]) * unit };
}

/** A rate as the settings spell it: `20/10m`, or `off`. */
function showRate(value: RateLimit): string {
  if (value.limit === 0) return 'off';
  for (const unit of ['d', 'h', 'm', 's']) {
    const ms = DURATION_UNITS[unit] ?? 1;
    if (value.windowMs % ms === 0) return `${value.limit}/${value.windowMs / ms}${unit}`;
  }
  return `${value.limit}/${value.windowMs / 1000}s`;
}
