// What every peer process shares: where it listens, which store it reads, and the one metric the
// runner reads from each server (`masthead_store_queries_total`, as Masthead names it).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { normalizeEmail } from '../../src/email.ts';
import { PeerStore } from './store.ts';

export const PORT = Number(process.env.PORT ?? 4100);
export const HOST = '127.0.0.1';

export function openPeerStore(): PeerStore {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL names the store to serve');
  return new PeerStore(url);
}

export function metricsText(store: PeerStore): string {
  return `# TYPE masthead_store_queries_total counter\nmasthead_store_queries_total ${store.statements}\n`;
}

/** Answers GET /metrics; true when it did. */
export function serveMetrics(store: PeerStore, req: IncomingMessage, res: ServerResponse): boolean {
  if (req.url !== '/metrics') return false;
  res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(metricsText(store));
  return true;
}

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** The socket's address as Masthead records it with a consent (no proxies trusted). */
export function socketAddress(address: string | undefined): string | null {
  if (address === undefined) return null;
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

export interface SubscribeInput {
  email: string;
  newsletter: string;
}

/**
 * Masthead's `subscribe` for the benchmark's inputs: the address checked and normalised, the
 * newsletter looked up, the sign-up transaction; the payload that a valid sign-up gets.
 */
export async function subscribe(
  store: PeerStore,
  input: SubscribeInput,
  client: { address: string | null; userAgent: string | null },
): Promise<{ subscription: { status: string; newsletter: { name: string } } | null; userErrors: unknown[] }> {
  const normalized = normalizeEmail(input.email);
  const newsletter = await store.newsletterBySlug(input.newsletter.trim());
  if (!newsletter || 'problem' in normalized) {
    return { subscription: null, userErrors: [{ field: ['input'], code: 'INPUT_INVALID', message: 'not benchmarked' }] };
  }
  await store.signUp({
    newsletterId: newsletter.id,
    email: normalized.email,
    clientAddress: client.address,
    userAgent: client.userAgent,
    now: new Date().toISOString(),
  });
  return { subscription: { status: 'PENDING', newsletter: { name: newsletter.name } }, userErrors: [] };
}
