// A Yoga instance driven from a bare node:http handler by the call Masthead's listener makes
// (getResultForParams: Yoga's envelop pipeline, params to result, without Fetch API objects),
// the answer written with JSON.stringify: what Yoga's engine costs with nothing around it.
import { createServer } from 'node:http';
import type { YogaServerInstance } from 'graphql-yoga';
import { HOST, PORT, readBody, socketAddress } from './common.ts';

/** What the handler hands Yoga as the server context: the client, as Masthead's context reads it. */
export interface BareClient {
  address: string | null;
  userAgent: string | null;
}

/** Serves POST /graphql (JSON) through `yoga`, and GET /metrics with `metrics()`, until SIGTERM. */
export async function serveBareYoga<TContext extends Record<string, unknown>>(
  yoga: YogaServerInstance<BareClient, TContext>,
  metrics: () => Promise<string> | string,
  close: () => Promise<void> = async () => {},
): Promise<void> {
  const server = createServer(async (req, res) => {
    if (req.url === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(await metrics());
      return;
    }
    const params = JSON.parse(await readBody(req));
    const request = { method: 'POST', url: `http://${HOST}${req.url}`, headers: new Headers() } as Request;
    const client = { address: socketAddress(req.socket.remoteAddress), userAgent: req.headers['user-agent'] ?? null };
    const result = await yoga.getResultForParams({ params, request }, client);
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(result));
  });
  await new Promise<void>((resolve) => server.listen(PORT, HOST, resolve));
  process.once('SIGTERM', () => {
    server.close();
    server.closeAllConnections();
    void close().then(() => process.exit(0));
  });
}
