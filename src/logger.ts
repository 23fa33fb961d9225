import { AsyncLocalStorage } from 'node:async_hooks';
import { Writable } from 'node:stream';
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

/**
 * Arguments as the console takes them, as pino wants them: the words joined into `msg`, the
 * first Error as `err` (pino prints its stack), plain objects' fields merged into the line.
 */
function logWith(log: PinoLogger, level: 'debug' | 'info' | 'warn' | 'error'): (...args: unknown[]) => void {
  return (...args) => {
    if (!log.isLevelEnabled(level)) return;
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
    const merged = error === undefined ? fields : { ...fields, err: error };
    if (merged === undefined) log[level](words.join(' '));
    else log[level](merged, words.join(' '));
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

const LEVEL_NAMES: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
const BASE_KEYS = new Set(['level', 'time', 'msg', 'err', 'pid', 'hostname']);

/**
 * Pino's JSON lines as people read them: `TIME LEVEL message key=value…`, and an error's stack
 * on the lines below. For a terminal and the tests; production takes the JSON as it is.
 */
function textLines(destination: { write(text: string): unknown }): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      const line = JSON.parse(chunk.toString('utf8')) as Record<string, unknown>;
      const extra = Object.entries(line)
        .filter(([key]) => !BASE_KEYS.has(key))
        .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
      const err = line.err as { stack?: string; message?: string } | undefined;
      const text = [line.msg, ...extra].filter((part) => part !== undefined && part !== '').join(' ');
      const time = new Date(line.time as number).toISOString();
      destination.write(`${time} ${LEVEL_NAMES[line.level as number] ?? line.level} ${text}${err?.stack ? `\n${err.stack}` : ''}\n`);
      done();
    },
  });
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
  const options: pino.LoggerOptions = {
    level,
    base: undefined,
    serializers: { err: pino.stdSerializers.err },
    mixin: () => {
      const request = requestScope.getStore();
      return request === undefined ? {} : { requestId: request.requestId };
    },
    formatters: format === 'json' ? { level: (label) => ({ level: label }) } : {},
    timestamp: format === 'json' ? pino.stdTimeFunctions.isoTime : pino.stdTimeFunctions.epochTime,
  };
  const to = (out: Line | NodeJS.WritableStream) => pino(options, format === 'text' ? textLines(out) : (out as pino.DestinationStream));
  if (destination !== process.stderr) return { ...wrap(to(destination), null), flush: () => {} };
  const stderr = batchedStderr();
  return { ...wrap(to(stderr.now), to(stderr.batched)), flush: stderr.flush };
}
