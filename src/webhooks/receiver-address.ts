import { lookup } from 'node:dns/promises';
import type { LookupAddress } from 'node:dns';
import ipaddr from 'ipaddr.js';

/** Why a receiver's address is refused; null when it is a public unicast address. */
export function refusedRange(address: string): string | null {
  if (!ipaddr.isValid(address)) return 'not an IP address';
  // process() reads an IPv4-mapped IPv6 address (::ffff:127.0.0.1) as the IPv4 address it maps.
  const range = ipaddr.process(address).range();
  return range === 'unicast' ? null : range;
}

/** A receiver that may not be called; the message says why and which setting allows it. */
export class RefusedReceiver extends Error {
  override name = 'RefusedReceiver';
}

export function refusal(host: string, address: string, range: string): RefusedReceiver {
  return new RefusedReceiver(
    `${host} resolves to ${address}, a ${range} address: receivers on loopback, private or link-local addresses are refused unless WEBHOOK_ALLOW_PRIVATE_ADDRESSES=1`,
  );
}

/** The host of a URL as DNS takes it: IPv6 literals without their brackets. */
export function hostOf(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

/**
 * Checks every address the host resolves to (an attacker's name may resolve to several). Throws
 * a RefusedReceiver for one that is not public, or when the name does not resolve.
 */
export async function checkReceiverHost(host: string, allowPrivate: boolean): Promise<void> {
  let addresses: LookupAddress[];
  try {
    addresses = ipaddr.isValid(host) ? [{ address: host, family: host.includes(':') ? 6 : 4 }] : await lookup(host, { all: true, verbatim: true });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new RefusedReceiver(`${host} does not resolve (${typeof code === 'string' ? code : 'no address'})`);
  }
  if (addresses.length === 0) throw new RefusedReceiver(`${host} does not resolve`);
  if (allowPrivate) return;
  for (const { address } of addresses) {
    const range = refusedRange(address);
    if (range !== null) throw refusal(host, address, range);
  }
}
