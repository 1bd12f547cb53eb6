import type { IncomingMessage } from 'node:http';

import { describe, expect, it } from 'vitest';

import { clientAddress, isAddressOrRange, trustedProxies } from './client-address.js';

/** The two parts of a request clientAddress reads: the TCP peer and the headers. */
function request(peer: string | undefined, forwardedFor?: string | string[]): IncomingMessage {
  return {
    socket: { remoteAddress: peer },
    headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor },
  } as unknown as IncomingMessage;
}

const proxies = trustedProxies(['127.0.0.1', '10.0.0.0/8', 'fd00::/8'])!;

describe('clientAddress', () => {
  it('is the TCP peer when no proxy is trusted, whatever the header says', () => {
    expect(clientAddress(request('192.0.2.4', '203.0.113.7'), undefined)).toBe('192.0.2.4');
    expect(trustedProxies([])).toBeUndefined();
    expect(trustedProxies(undefined)).toBeUndefined();
  });

  it('ignores the header from a peer that is not a trusted proxy (a client cannot name itself)', () => {
    expect(clientAddress(request('192.0.2.4', '203.0.113.7'), proxies)).toBe('192.0.2.4');
  });

  it('takes the address the trusted proxy saw', () => {
    expect(clientAddress(request('10.1.2.3', '203.0.113.7'), proxies)).toBe('203.0.113.7');
    expect(clientAddress(request('127.0.0.1'), proxies)).toBe('127.0.0.1');
  });

  it('walks past a chain of trusted proxies, and never believes what the client prepended', () => {
    // The client sent "198.51.100.1" itself; its own address was appended by the outer proxy.
    const chain = '198.51.100.1, 203.0.113.7, 10.0.0.9';
    expect(clientAddress(request('10.1.2.3', chain), proxies)).toBe('203.0.113.7');
    // Several headers are one list in order.
    expect(clientAddress(request('10.1.2.3', ['198.51.100.1', '203.0.113.7, 10.0.0.9']), proxies)).toBe('203.0.113.7');
  });

  it('stops at a hop that is no address rather than trusting what lies beyond it', () => {
    expect(clientAddress(request('10.1.2.3', '203.0.113.7, unknown, 10.0.0.9'), proxies)).toBe('10.0.0.9');
    expect(clientAddress(request('10.1.2.3', '<script>'), proxies)).toBe('10.1.2.3');
    expect(clientAddress(request('10.1.2.3', ''), proxies)).toBe('10.1.2.3');
  });

  it('understands ports, brackets, IPv6 ranges and IPv4 clients of a dual-stack listener', () => {
    expect(clientAddress(request('10.1.2.3', '203.0.113.7:52044'), proxies)).toBe('203.0.113.7');
    expect(clientAddress(request('10.1.2.3', '[2001:db8::5]:443'), proxies)).toBe('2001:db8::5');
    expect(clientAddress(request('fd12::1', '2001:db8::5'), proxies)).toBe('2001:db8::5');
    expect(clientAddress(request('::ffff:10.0.0.7', '203.0.113.7'), proxies)).toBe('203.0.113.7');
    expect(clientAddress(request('::ffff:192.0.2.4', '203.0.113.7'), proxies)).toBe('::ffff:192.0.2.4');
  });

  it('names the leftmost hop when every hop is a trusted proxy', () => {
    expect(clientAddress(request('10.1.2.3', '10.0.0.8, 10.0.0.9'), proxies)).toBe('10.0.0.8');
  });
});

describe('isAddressOrRange (the config check of trusted_proxies)', () => {
  it('accepts addresses and CIDR ranges of both families', () => {
    for (const entry of ['127.0.0.1', '10.0.0.0/8', '0.0.0.0/0', '::1', 'fd00::/8', '2001:db8::/128']) {
      expect(isAddressOrRange(entry), entry).toBe(true);
    }
  });

  it('refuses names, bad prefixes and garbage', () => {
    for (const entry of ['localhost', '10.0.0.0/33', 'fd00::/129', '10.0.0.0/', '10.0.0.0/8/8', '10.0.0.0/x', '']) {
      expect(isAddressOrRange(entry), entry).toBe(false);
    }
  });
});
