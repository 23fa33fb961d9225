import { isIP } from 'node:net';

/**
 * One address as a proxy or the socket writes it, without its port: `192.0.2.1`,
 * `192.0.2.1:443`, `2001:db8::1`, `[2001:db8::1]` or `[2001:db8::1]:443` (IPv4-mapped IPv6 as
 * IPv4, IPv6 in lower case, so one client is one key); null when it is not an address.
 * Hand-written: proxy-addr and forwarded-parse take neither ports in X-Forwarded-For nor
 * brackets, and node:net's SocketAddress.parse needs Node 22.13.
 */
export function parseAddress(entry: string): string | null {
  let address = entry.trim();
  if (address.startsWith('[')) {
    const close = address.indexOf(']');
    const rest = address.slice(close + 1);
    if (close < 0 || !(rest === '' || (rest.startsWith(':') && validPort(rest.slice(1))))) return null;
    address = address.slice(1, close);
    if (isIP(address) !== 6) return null;
  } else if (/^\d+\.\d+\.\d+\.\d+:/.test(address)) {
    const colon = address.indexOf(':');
    if (!validPort(address.slice(colon + 1))) return null;
    address = address.slice(0, colon);
    if (isIP(address) !== 4) return null;
  } else if (isIP(address) === 0) {
    return null;
  }
  address = address.toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(address)?.[1];
  return mapped !== undefined && isIP(mapped) === 4 ? mapped : address;
}

function validPort(port: string): boolean {
  return /^\d{1,5}$/.test(port) && Number(port) <= 65535;
}

/**
 * The client's address. Each proxy appends the address it received a request from to
 * X-Forwarded-For; with `trustedHops` proxies of our own in front, the client is the entry that
 * the outermost of them appended: counted by position from the right, every entry counted, so
 * that an entry our proxy wrote in a form we do not read (with a port, in brackets, or garbage)
 * never shifts the count into entries the client wrote. When that entry is not an address, the
 * socket's address stands: the client can never choose its own. A header is ignored entirely
 * when no proxy is trusted.
 */
export function clientAddress(socketAddress: string | undefined, forwardedFor: string | null, trustedHops: number): string | null {
  const socket = socketAddress === undefined ? null : (parseAddress(socketAddress) ?? socketAddress);
  if (trustedHops > 0 && forwardedFor !== null && forwardedFor.trim() !== '') {
    const entries = forwardedFor.split(',');
    // Fewer entries than trusted proxies: the leftmost was still written by one of ours.
    const written = entries[Math.max(0, entries.length - trustedHops)];
    return (written === undefined ? null : parseAddress(written)) ?? socket;
  }
  return socket;
}
