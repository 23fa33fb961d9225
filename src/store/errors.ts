/** Why the store could not answer, when the reason is the store's state rather than the request. */
export type StoreFault = 'unavailable' | 'timeout';

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * Classifies an error from the store: a connection that could not be made or was lost, a
 * server shutting down or refusing connections, or a statement cancelled by the timeout.
 * Anything else (a bug, a constraint) is not a fault of the store's availability: null.
 */
export function storeFault(error: unknown): StoreFault | null {
  if (!(error instanceof Error)) return null;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (code === '57014') return 'timeout'; // query_canceled: statement_timeout
    if (CONNECTION_CODES.has(code)) return 'unavailable';
    // 08: connection exception; 57P01-57P03: admin shutdown, crash shutdown, cannot connect now.
    if (code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03') return 'unavailable';
    if (code === 'SQLITE_BUSY' || code === 'SQLITE_BUSY_SNAPSHOT' || code === 'SQLITE_BUSY_TIMEOUT') return 'timeout';
  }
  if (/Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(error.message)) {
    return 'unavailable';
  }
  return null;
}
