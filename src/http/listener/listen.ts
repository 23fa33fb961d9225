import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Listening {
  /** Where it listens, e.g. `http://127.0.0.1:4000`. */
  url: string;
  /** Stops listening and lets the requests in flight finish. */
  close(): Promise<void>;
}

/** Listens on HOST:PORT (port 0 picks a free one; `url` says which). */
export async function listen(
  handler: RequestListener,
  port: number,
  host: string,
  options: { requestTimeoutMs?: number; checkContinue?: RequestListener } = {},
): Promise<Listening> {
  const server = createServer(
    // Node looks for overdue requests at this interval (30 s by default): often enough for the timeout.
    options.requestTimeoutMs === undefined ? {} : { connectionsCheckingInterval: Math.min(30_000, Math.max(250, options.requestTimeoutMs / 4)) },
    handler,
  );
  // Without a listener Node answers `Expect: 100-continue` with 100 at once, whatever the body's size.
  if (options.checkContinue) server.on('checkContinue', options.checkContinue);
  if (options.requestTimeoutMs !== undefined) {
    // A request must arrive whole in time: a client that trickles bytes gets a 408.
    server.requestTimeout = options.requestTimeoutMs;
    server.headersTimeout = Math.min(options.requestTimeoutMs, 60_000);
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shownHost}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
