import { describe, expect, it } from 'vitest';
import { clientAddress, parseAddress } from '../src/http/client-address.ts';

describe('the client address', () => {
  it('is the socket address when no proxy is trusted, whatever X-Forwarded-For claims', () => {
    expect(clientAddress('::ffff:192.0.2.1', '198.51.100.7', 0)).toBe('192.0.2.1');
    expect(clientAddress(undefined, '198.51.100.7', 0)).toBeNull();
  });

  it('is the entry the outermost trusted proxy appended', () => {
    expect(clientAddress('10.0.0.2', 'spoofed, 198.51.100.7', 1)).toBe('198.51.100.7');
    expect(clientAddress('10.0.0.2', '203.0.113.1, 198.51.100.7, 10.0.0.1', 2)).toBe('198.51.100.7');
    expect(clientAddress('10.0.0.2', '2001:db8::1', 1)).toBe('2001:db8::1');
  });

  it('falls back to what it can trust when the header is short or nonsense', () => {
    expect(clientAddress('10.0.0.2', '198.51.100.7', 3)).toBe('198.51.100.7');
    expect(clientAddress('10.0.0.2', 'not-an-ip, <script>', 1)).toBe('10.0.0.2');
    expect(clientAddress('10.0.0.2', null, 1)).toBe('10.0.0.2');
    expect(clientAddress('10.0.0.2', '  ', 1)).toBe('10.0.0.2');
  });

  it('takes the address from an entry with a port, so the client cannot pick its own with TRUST_PROXY_HOPS=1', () => {
    // The client sent "203.0.113.66"; our proxy appended where the request came from, with its port.
    expect(clientAddress('10.0.0.2', '203.0.113.66, 198.51.100.7:51234', 1)).toBe('198.51.100.7');
    expect(clientAddress('10.0.0.2', '203.0.113.66, [2001:db8::7]:51234', 1)).toBe('2001:db8::7');
    expect(clientAddress('10.0.0.2', '203.0.113.66, [2001:DB8::7]', 1)).toBe('2001:db8::7');
    expect(clientAddress('10.0.0.2', '203.0.113.66, 198.51.100.7:51234, 10.0.0.1:80', 2)).toBe('198.51.100.7');
  });

  it('counts a garbage entry in its place, and never lets the client choose through it', () => {
    // What our proxy wrote is not an address: the socket stands, not the client's claim to its left.
    expect(clientAddress('10.0.0.2', '203.0.113.66, garbage', 1)).toBe('10.0.0.2');
    expect(clientAddress('10.0.0.2', '203.0.113.66, 198.51.100.7:99999', 1)).toBe('10.0.0.2');
    expect(clientAddress('10.0.0.2', '203.0.113.66, ', 1)).toBe('10.0.0.2');
    expect(clientAddress('10.0.0.2', '203.0.113.66, unknown, 10.0.0.1', 2)).toBe('10.0.0.2');
    // Garbage the client wrote, to the left of the entries our proxies wrote, changes nothing.
    expect(clientAddress('10.0.0.2', 'x:y, [::1, 198.51.100.7, 10.0.0.1', 2)).toBe('198.51.100.7');
  });

  it('reads an address strictly: a port only after IPv4 or bracketed IPv6, and a real one', () => {
    expect(parseAddress(' 192.0.2.1 ')).toBe('192.0.2.1');
    expect(parseAddress('192.0.2.1:8080')).toBe('192.0.2.1');
    expect(parseAddress('[::1]:443')).toBe('::1');
    expect(parseAddress('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(parseAddress('[::ffff:192.0.2.1]:1')).toBe('192.0.2.1');
    for (const bad of [
      '',
      '192.0.2.1:',
      '192.0.2.1:65536',
      '192.0.2.1:80:80',
      '[::1',
      '[::1]x80',
      '[192.0.2.1]',
      '2001:db8::1:80x',
      '999.0.0.1',
      'localhost',
      '192.0.2.1 :80',
    ]) {
      expect(parseAddress(bad), bad).toBeNull();
    }
  });
});
