export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(...args: unknown[]): void;
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Lines on stderr, so that stdout stays for what a command prints as its result. */
export function createLogger(level: LogLevel = 'info'): Logger {
  const write =
    (at: LogLevel) =>
    (...args: unknown[]) => {
      if (LEVELS[at] < LEVELS[level]) return;
      const text = args.map((arg) => (arg instanceof Error ? (arg.stack ?? arg.message) : typeof arg === 'string' ? arg : JSON.stringify(arg))).join(' ');
      process.stderr.write(`${new Date().toISOString()} ${at} ${text}\n`);
    };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}
