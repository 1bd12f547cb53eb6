import { describe, expect, it } from 'vitest';

import { checkRequest, hostnameOf, RequestGuard } from './request-guard.js';

const loopback = { bindHost: '127.0.0.1' };

describe('checkRequest', () => {
  it('accepts loopback hosts on a loopback listener', () => {
    for (const host of ['localhost:12010', '127.0.0.1:12010', '[::1]:12010', 'localhost']) {
      expect(checkRequest({ host }, loopback).ok).toBe(true);
    }
  });

  it('refuses a foreign Host on a loopback listener (DNS rebinding)', () => {
    expect(checkRequest({ host: 'evil.example:12010' }, loopback)).toMatchObject({ ok: false, status: 403 });
    expect(checkRequest({}, loopback).ok).toBe(false);
  });

  it('refuses a foreign or missing Host however often a loopback Host passed before (one guard per config)', () => {
    const guard = new RequestGuard(loopback);
    expect(guard.check(undefined, undefined).ok).toBe(false);
    expect(guard.check('localhost:12010', undefined).ok).toBe(true);
    expect(guard.check('localhost:12010', undefined).ok).toBe(true);
    expect(guard.check(undefined, undefined).ok).toBe(false);
    expect(guard.check('evil.example:12010', undefined).ok).toBe(false);
  });

  it('accepts any Host on a listener bound to all interfaces', () => {
    expect(checkRequest({ host: 'gateway.lan:12010' }, { bindHost: '0.0.0.0' }).ok).toBe(true);
  });

  it('refuses a foreign Origin, accepts loopback, same-host and configured origins', () => {
    const host = 'localhost:12010';
    expect(checkRequest({ host, origin: 'http://evil.example' }, loopback).ok).toBe(false);
    expect(checkRequest({ host, origin: 'http://localhost:6274' }, loopback).ok).toBe(true);
    expect(checkRequest({ host: 'gw.lan:1', origin: 'http://gw.lan:1' }, { bindHost: '0.0.0.0' }).ok).toBe(true);
    expect(checkRequest({ host: 'gw.lan:1', origin: 'http://evil.example' }, { bindHost: '0.0.0.0' }).ok).toBe(false);
    const configured = { ...loopback, allowedOrigins: ['https://app.example.com'] };
    expect(checkRequest({ host, origin: 'https://app.example.com' }, configured).ok).toBe(true);
    expect(checkRequest({ host, origin: 'not a url' }, loopback).ok).toBe(false);
  });
});

describe('hostnameOf', () => {
  it('strips the port and keeps IPv6 brackets', () => {
    expect(hostnameOf('Example.COM:80')).toBe('example.com');
    expect(hostnameOf('[::1]:8080')).toBe('[::1]');
  });
});
