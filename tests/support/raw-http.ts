import http from 'node:http';
import net from 'node:net';

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/**
 * One request through node:http, which sends what fetch refuses: any method, bodies of any
 * bytes with any content type, no `content-length` checks on GET. Resolves with `null` when the
 * server closes the connection without an answer.
 */
export function rawRequest(
  url: string,
  { method = 'GET', headers = {}, body }: { method?: string; headers?: Record<string, string>; body?: Uint8Array | string },
  timeoutMs = 10_000,
): Promise<RawResponse | null> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method, headers, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, text: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', () => resolve(null));
    });
    request.setTimeout(timeoutMs, () => request.destroy(new Error(`no answer within ${timeoutMs} ms: ${method} ${url}`)));
    request.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNRESET' || error.code === 'EPIPE') resolve(null);
      else reject(error);
    });
    request.end(body);
  });
}

/**
 * Bytes written straight to a socket, for framing that no HTTP client sends (a wrong
 * Content-Length, a bad chunk size, two lengths). Reads until the server closes, or until
 * `waitMs` of silence; `hangUp` ends our side once the bytes are out, as a client that gives up.
 * Returns the status of every response in what came back.
 */
export function rawExchange(port: number, bytes: string | Uint8Array, { waitMs = 1500, hangUp = false } = {}): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      resolve([...text.matchAll(/HTTP\/1\.[01] (\d{3})/g)].map((match) => Number(match[1])));
    };
    const quiet = () => {
      clearTimeout(timer);
      timer = setTimeout(finish, waitMs);
    };
    socket.on('connect', () => {
      socket.write(bytes, () => {
        if (hangUp) socket.end();
        quiet();
      });
    });
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      quiet();
    });
    socket.on('close', finish);
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNRESET' || error.code === 'EPIPE') finish();
      else reject(error);
    });
  });
}
