import { describe, expect, it } from 'vitest';
import { clientAddress } from '../src/http/client-address.ts';

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
  });
});
