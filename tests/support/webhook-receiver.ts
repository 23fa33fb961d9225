import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
  /** The status this attempt was answered with. */
  status: number;
  /** The sender's port: attempts on one kept connection share it. */
  remotePort: number;
}

/** What the receiver answers an attempt with: a status (and optional body or headers). */
export type Answer = { status: number; body?: string; headers?: Record<string, string> };

/** A webhook receiver on a loopback port: records every attempt and answers as the test says. */
export interface WebhookReceiver {
  url: string;
  attempts: ReceivedWebhook[];
  /** Attempts answered 2xx, in arrival order. */
  delivered(): ReceivedWebhook[];
  /** Decides each attempt's answer; default 204. */
  answer: (attempt: { headers: IncomingHttpHeaders; body: string; seenBefore: number }) => Answer;
  /** Resolves once `count` attempts were answered 2xx (rejects after `timeoutMs`). */
  waitForDelivered(count: number, timeoutMs?: number): Promise<ReceivedWebhook[]>;
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const seen = new Map<string, number>();
  const waiters = new Set<() => boolean>();
  const receiver: WebhookReceiver = {
    url: '',
    attempts: [],
    delivered: () => receiver.attempts.filter((a) => a.status >= 200 && a.status < 300),
    answer: () => ({ status: 204 }),
    waitForDelivered(count, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (receiver.delivered().length >= count) {
            clearTimeout(timer);
            resolve(receiver.delivered());
            return true;
          }
          return false;
        };
        const timer = setTimeout(() => reject(new Error(`${receiver.delivered().length} of ${count} webhooks delivered within ${timeoutMs} ms`)), timeoutMs);
        if (!check()) waiters.add(check);
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const id = String(request.headers['webhook-id'] ?? '');
      const seenBefore = seen.get(id) ?? 0;
      seen.set(id, seenBefore + 1);
      const answer = receiver.answer({ headers: request.headers, body, seenBefore });
      receiver.attempts.push({
        path: request.url ?? '',
        headers: request.headers,
        body,
        at: Date.now(),
        status: answer.status,
        remotePort: request.socket.remotePort ?? 0,
      });
      response.writeHead(answer.status, answer.headers ?? {});
      response.end(answer.body ?? '');
      for (const waiter of waiters) if (waiter()) waiters.delete(waiter);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  return receiver;
}
