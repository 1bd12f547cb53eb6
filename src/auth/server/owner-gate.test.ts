import { describe, expect, it } from 'vitest';

import { addressKey, createOwnerGate, FAILURE_WINDOW_MS, SLOWDOWN_MS } from './owner-gate.js';

const PASSWORD = 'the-owner-password';

describe('createOwnerGate', () => {
  it('counts failures per address: one that guesses is locked, another is not', () => {
    const gate = createOwnerGate(() => 0);
    for (let i = 0; i < 10; i++) expect(gate.check('wrong', PASSWORD, '192.0.2.1').verdict).toBe('wrong');
    expect(gate.check(PASSWORD, PASSWORD, '192.0.2.1').verdict).toBe('locked');
    expect(gate.check(PASSWORD, PASSWORD, '192.0.2.2')).toEqual({ verdict: 'ok', delayMs: 0 });
  });

  it('counts an IPv6 /64 as one address, and an IPv4-mapped address as its IPv4 one', () => {
    const gate = createOwnerGate(() => 0);
    for (let i = 0; i < 10; i++) gate.check('wrong', PASSWORD, `2001:db8:1:2::${i + 1}`);
    expect(gate.check(PASSWORD, PASSWORD, '2001:db8:1:2:ffff::9').verdict).toBe('locked');
    expect(gate.check(PASSWORD, PASSWORD, '2001:db8:1:3::1').verdict).toBe('ok');
    for (let i = 0; i < 10; i++) gate.check('wrong', PASSWORD, '::ffff:192.0.2.9');
    expect(gate.check(PASSWORD, PASSWORD, '192.0.2.9').verdict).toBe('locked');
  });

  it('past 100 failures in a window from everywhere, slows every answer but locks nobody out', () => {
    let time = 0;
    const gate = createOwnerGate(() => time);
    for (let i = 0; i < 99; i++) expect(gate.check('wrong', PASSWORD, `198.51.100.${i}`).delayMs).toBe(0);
    gate.check('wrong', PASSWORD, '198.51.100.200');
    expect(gate.check(PASSWORD, PASSWORD, '203.0.113.1')).toEqual({ verdict: 'ok', delayMs: SLOWDOWN_MS });
    time += FAILURE_WINDOW_MS;
    expect(gate.check(PASSWORD, PASSWORD, '198.51.100.0')).toEqual({ verdict: 'ok', delayMs: 0 });
  });

  it('remembers at most 10,000 addresses: the one that failed longest ago makes room', () => {
    const gate = createOwnerGate(() => 0);
    for (let i = 0; i < 10; i++) gate.check('wrong', PASSWORD, '192.0.2.1');
    for (let i = 0; i < 10_000; i++) gate.check('wrong', PASSWORD, `10.${i >> 8}.${i & 255}.1`);
    expect(gate.check(PASSWORD, PASSWORD, '192.0.2.1').verdict).toBe('ok');
    expect(gate.check(PASSWORD, PASSWORD, '10.0.0.1').verdict).toBe('ok');
  });

  it('forgets an address once its window has passed', () => {
    let time = 0;
    const gate = createOwnerGate(() => time);
    for (let i = 0; i < 10; i++) gate.check('wrong', PASSWORD, '192.0.2.1');
    time += FAILURE_WINDOW_MS + 1;
    expect(gate.check(PASSWORD, PASSWORD, '192.0.2.1').verdict).toBe('ok');
  });
});

describe('addressKey', () => {
  it('keeps IPv4, cuts IPv6 to its /64', () => {
    expect(addressKey('192.0.2.1')).toBe('192.0.2.1');
    expect(addressKey('2001:0db8:0001:0002:0000:0000:0000:0001')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey(undefined)).toBe('unknown');
  });
});
