import type { Logger } from '../logger.ts';

/** Resolves at the first SIGTERM or SIGINT, once it is logged: a server stops cleanly on either. */
export function untilStopped(logger: Logger): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info(`${signal}: shutting down`);
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}
