import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A GraphQL request as a subgraph received it. */
export interface RecordedRequest {
  query: string;
  variables?: { representations?: Array<{ __typename: string }> } & Record<string, unknown>;
}

/** A subgraph on a loopback port that a test controls: it records what it is asked, and can be slowed or stopped. */
export interface RecordingServer {
  /** Its GraphQL endpoint. */
  url: string;
  /** Every GraphQL request received since the last `clear()`. */
  requests: RecordedRequest[];
  /** `_entities` requests among them. */
  entityRequests(): RecordedRequest[];
  clear(): void;
  /** Holds every answer this long first. */
  delayMs: number;
  /** Sends every answer's headers and its first half at once, and the rest this much later. */
  bodyDelayMs: number;
  /** Stops listening and drops open connections: callers get "connection refused", as from a crashed service. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  close(): Promise<void>;
}

type FetchHandler = (url: string, init: RequestInit) => Promise<Response> | Response;

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Serves a Yoga instance's `fetch` (Masthead's, or a test subgraph's) on 127.0.0.1. */
export async function startRecordingServer(handle: FetchHandler): Promise<RecordingServer> {
  let server: Server | null = null;
  let port = 0;
  const recording: RecordingServer = {
    url: '',
    requests: [],
    entityRequests: () => recording.requests.filter((request) => /\b_entities\b/.test(request.query)),
    clear: () => {
      recording.requests.length = 0;
    },
    delayMs: 0,
    bodyDelayMs: 0,
    async start() {
      const listening = createServer(async (request, response) => {
        const body = await readBody(request);
        if (request.method === 'POST') recording.requests.push(JSON.parse(body.toString('utf8')) as RecordedRequest);
        if (recording.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, recording.delayMs));
        if (response.destroyed) return;
        const headers = Object.fromEntries(Object.entries(request.headers).flatMap(([name, value]) => (typeof value === 'string' ? [[name, value]] : [])));
        const answer = await handle(`http://127.0.0.1:${port}${request.url ?? '/'}`, {
          method: request.method ?? 'GET',
          headers,
          ...(request.method === 'POST' ? { body: body.toString('utf8') } : {}),
        });
        const bytes = Buffer.from(await answer.arrayBuffer());
        response.writeHead(answer.status, { ...Object.fromEntries(answer.headers), 'content-length': String(bytes.length) });
        if (recording.bodyDelayMs > 0) {
          response.write(bytes.subarray(0, bytes.length >> 1));
          await new Promise((resolve) => setTimeout(resolve, recording.bodyDelayMs));
          if (response.destroyed) return;
          response.end(bytes.subarray(bytes.length >> 1));
        } else {
          response.end(bytes);
        }
      });
      await new Promise<void>((resolve) => listening.listen(port, '127.0.0.1', resolve));
      port = (listening.address() as AddressInfo).port;
      recording.url = `http://127.0.0.1:${port}/graphql`;
      server = listening;
    },
    async stop() {
      const listening = server;
      server = null;
      if (!listening) return;
      await new Promise<void>((resolve) => {
        listening.close(() => resolve());
        listening.closeAllConnections();
      });
    },
    close: () => recording.stop(),
  };
  await recording.start();
  return recording;
}
