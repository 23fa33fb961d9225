import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * How much of a refused request's body is read and thrown away before the answer, so that the
 * client, still sending, receives the answer instead of a broken pipe. Past it the connection is
 * cut. (The time a body may take is bounded by REQUEST_TIMEOUT_MS, as any request's.)
 */
export const DRAIN_LIMIT_BYTES = 16 * 1024 * 1024;

export const BODY_TOO_LARGE = Symbol('body too large');
export const BODY_ABORTED = Symbol('body aborted');

export type BodyOutcome = Buffer | typeof BODY_TOO_LARGE | typeof BODY_ABORTED;

/** Whether the request carries a body at all (a length above 0, or chunks). */
export function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * Reads a body of at most `limit` bytes. A longer one is read on, and thrown away, up to
 * DRAIN_LIMIT_BYTES, so its sender is still listening for the 413: BODY_TOO_LARGE then. A client
 * that hangs up mid-body gives BODY_ABORTED: nobody is left to answer.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<BodyOutcome> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (tooLarge || size > limit) {
        tooLarge = true;
        chunks.length = 0;
        if (size > limit + DRAIN_LIMIT_BYTES) {
          // Read enough: answer now; the connection closes after the answer.
          done(BODY_TOO_LARGE);
          req.pause();
        }
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => done(tooLarge ? BODY_TOO_LARGE : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    const onAborted = () => done(BODY_ABORTED);
    let settled = false;
    const done = (outcome: BodyOutcome) => {
      if (settled) return;
      settled = true;
      req.off('data', onData).off('end', onEnd).off('error', onAborted).off('aborted', onAborted);
      // Anything still arriving after the answer is Node's to discard; errors are the client's.
      req.on('error', () => {});
      resolve(outcome);
    };
    req.on('data', onData).on('end', onEnd).on('error', onAborted).on('aborted', onAborted);
  });
}

/** Throws a body away up to DRAIN_LIMIT_BYTES (for a request refused before it was read). */
export async function discardBody(req: IncomingMessage): Promise<BodyOutcome> {
  if (!hasBody(req) || req.complete) return Buffer.alloc(0);
  return readBody(req, 0);
}

/**
 * Writes a whole answer. With `close`, the connection closes after it (Node cuts any body that
 * is still arriving, so callers read the body, or throw it away, first).
 */
export function writeAnswer(res: ServerResponse, status: number, headers: Record<string, string>, body: string | Buffer, close = false): void {
  if (res.headersSent || res.destroyed) return;
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  res.writeHead(status, { ...headers, 'content-length': String(bytes.length), ...(close ? { connection: 'close' } : {}) });
  res.end(bytes);
}
