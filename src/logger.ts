import { AsyncLocalStorage } from 'node:async_hooks';
import pino, { type Logger as PinoLogger } from 'pino';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
export type LogFormat = 'json' | 'text';

/** What Masthead logs through (Yoga's logger has the same four methods). */
export interface Logger {
  debug(...args: unknown[]): void;
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
  /**
   * A logger whose every line also carries these fields (a request's id, say). With `batched`,
   * its lines may wait (up to 4 KiB or 200 ms) to be written with others: for a line a request,
   * such as the access log.
   */
  child(fields: Record<string, unknown>, options?: { batched?: boolean }): Logger;
}

export interface LoggerOptions {
  /** @default 'info' */
  level?: LogLevel;
  /** JSON lines for machines, or `TIME LEVEL message` lines for people. @default 'text' */
  format?: LogFormat;
  /** Where lines go. @default standard error, so that stdout stays for what a command prints as its result */
  destination?: NodeJS.WritableStream;
}

const LEVELS: Record<LogLevel, number> = { debug: 20, info: 30, warn: 40, error: 50, silent: Number.POSITIVE_INFINITY };

/** What a call's arguments say: the words, the first Error, and the plain objects' fields merged. */
interface Entry {
  message: string;
  error: Error | undefined;
  fields: Record<string, unknown> | undefined;
}

/** Arguments as the console takes them: words joined, the first Error kept apart, plain objects' fields merged. */
function entryOf(args: unknown[]): Entry {
  let error: Error | undefined;
  let fields: Record<string, unknown> | undefined;
  const words: string[] = [];
  for (const arg of args) {
    if (arg instanceof Error) {
      if (error === undefined) error = arg;
      else words.push(arg.message);
    } else if (typeof arg === 'string') words.push(arg);
    else if (arg !== null && typeof arg === 'object' && !Array.isArray(arg)) fields = { ...fields, ...(arg as Record<string, unknown>) };
    else words.push(JSON.stringify(arg) ?? String(arg));
  }
  if (error !== undefined && words.length === 0) words.push(error.message);
  return { message: words.join(' '), error, fields };
}

/** pino's call for a level: the first Error as `err` (pino prints its stack), the fields merged into the line. */
function logWith(log: PinoLogger, level: Exclude<LogLevel, 'silent'>): (...args: unknown[]) => void {
  return (...args) => {
    if (!log.isLevelEnabled(level)) return;
    const { message, error, fields } = entryOf(args);
    const merged = error === undefined ? fields : { ...fields, err: error };
    if (merged === undefined) log[level](message);
    else log[level](merged, message);
  };
}

/** `batchedLog` is a logger like `log` (the same fields) whose lines may wait to be written; without one, lines never wait. */
function wrap(log: PinoLogger, batchedLog: PinoLogger | null): Logger {
  return {
    debug: logWith(log, 'debug'),
    info: logWith(log, 'info'),
    warn: logWith(log, 'warn'),
    error: logWith(log, 'error'),
    child: (fields, options) =>
      options?.batched && batchedLog !== null ? wrap(batchedLog.child(fields), null) : wrap(log.child(fields), batchedLog?.child(fields) ?? null),
  };
}

const fieldText = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));

/**
 * `TIME LEVEL message key=value…` lines for people, and an error's stack on the lines below: for
 * a terminal and the tests; production takes pino's JSON. Written here from the call's
 * arguments, not by parsing pino's JSON line back: the access line (a line a request) cost about
 * 9 µs through pino and a parse, against 5 µs for the JSON line alone.
 */
function textLogger(threshold: number, out: Line, batched: Line | null, bound: Record<string, unknown>): Logger {
  const at =
    (level: Exclude<LogLevel, 'silent'>) =>
    (...args: unknown[]) => {
      if (LEVELS[level] < threshold) return;
      const { message, error, fields } = entryOf(args);
      const request = requestScope.getStore();
      let text = `${new Date().toISOString()} ${level} ${message}`;
      if (message === '') text = text.slice(0, -1);
      const all: Record<string, unknown> = request === undefined ? { ...bound, ...fields } : { ...bound, requestId: request.requestId, ...fields };
      for (const key in all) if (key !== 'err' && all[key] !== undefined) text += ` ${key}=${fieldText(all[key])}`;
      out.write(`${text}${error?.stack ? `\n${error.stack}` : ''}\n`);
    };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (fields, options) =>
      options?.batched && batched !== null
        ? textLogger(threshold, batched, null, { ...bound, ...fields })
        : textLogger(threshold, out, batched, { ...bound, ...fields }),
  };
}

/** The request being served, as far as its asynchronous work reaches: every line logged in it names its id. */
export const requestScope = new AsyncLocalStorage<{ requestId: string }>();

/** The root logger: batched lines not yet written go out on `flush` (and at exit in any case). */
export interface RootLogger extends Logger {
  flush(): void;
}

/** How many bytes of batched lines wait before they are written to standard error, and for how long at most. */
const BATCH_BYTES = 4096;
const BATCH_MS = 200;

interface Line {
  write(text: string): unknown;
}

/**
 * Standard error through pino's own destination (SonicBoom), synchronous as is pino's default:
 * batched lines (the access log: a line a request) gather until 4 KiB (its minLength) or for 200
 * ms at most (its periodicFlush); any other line is written at once, after what waits before it
 * (one stream, so the order holds); what waits is written at exit, so no line is lost.
 */
function batchedStderr(): { now: Line; batched: Line; flush(): void } {
  const stream = pino.destination({ dest: 2, sync: true, minLength: BATCH_BYTES, periodicFlush: BATCH_MS });
  const flush = () => stream.flushSync();
  process.once('exit', flush);
  return {
    now: {
      write(text) {
        stream.write(text);
        flush();
      },
    },
    batched: stream,
    flush,
  };
}

export function createLogger({ level = 'info', format = 'text', destination = process.stderr }: LoggerOptions = {}): RootLogger {
  const stderr = destination === process.stderr ? batchedStderr() : null;
  const now: Line = stderr?.now ?? destination;
  const flush = stderr?.flush ?? (() => {});
  if (format === 'text') return { ...textLogger(LEVELS[level], now, stderr?.batched ?? null, {}), flush };
  const json = (out: Line) =>
    pino(
      {
        level,
        base: undefined,
        serializers: { err: pino.stdSerializers.err },
        mixin: () => {
          const request = requestScope.getStore();
          return request === undefined ? {} : { requestId: request.requestId };
        },
        formatters: { level: (label) => ({ level: label }) },
        timestamp: pino.stdTimeFunctions.isoTime,
      },
      out as pino.DestinationStream,
    );
  return { ...wrap(json(now), stderr === null ? null : json(stderr.batched)), flush };
}
