import { describe, expect, it } from 'vitest';

import { hostAllowed } from './host-fetch.js';

describe('hostAllowed', () => {
  it('matches hosts exactly, subdomains with *., and ports when given', () => {
    const url = (u: string) => new URL(u);
    expect(hostAllowed(url('https://API.github.com/x'), ['api.github.com'])).toBe(true);
    expect(hostAllowed(url('https://evil.com/api.github.com'), ['api.github.com'])).toBe(false);
    expect(hostAllowed(url('https://a.b.example.com'), ['*.example.com'])).toBe(true);
    expect(hostAllowed(url('https://example.com'), ['*.example.com'])).toBe(false);
    expect(hostAllowed(url('https://notexample.com'), ['*.example.com'])).toBe(false);
    expect(hostAllowed(url('http://127.0.0.1:8080'), ['127.0.0.1:8080'])).toBe(true);
    expect(hostAllowed(url('http://127.0.0.1:9090'), ['127.0.0.1:8080'])).toBe(false);
  });
});
