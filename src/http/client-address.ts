import { isIP } from 'node:net';

function plain(address: string): string {
  const trimmed = address.trim();
  return trimmed.startsWith('::ffff:') && isIP(trimmed.slice(7)) === 4 ? trimmed.slice(7) : trimmed;
}

/**
 * The client's address. Each proxy appends the address it received a request from to
 * X-Forwarded-For; with `trustedHops` proxies of our own in front, the client is the entry that
 * the outermost of them appended. Entries further left are whatever the client claimed, and a
 * header is ignored entirely when no proxy is trusted, so a client cannot choose its own address.
 */
export function clientAddress(socketAddress: string | undefined, forwardedFor: string | null, trustedHops: number): string | null {
  if (trustedHops > 0 && forwardedFor !== null) {
    const entries = forwardedFor
      .split(',')
      .map(plain)
      .filter((entry) => isIP(entry) !== 0);
    const client = entries[Math.max(0, entries.length - trustedHops)];
    if (client !== undefined) return client;
  }
  return socketAddress === undefined ? null : plain(socketAddress);
}
