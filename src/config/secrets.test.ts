import { describe, expect, it } from 'vitest';

import { parseConfigText } from './load.js';
import { secretValues } from './secrets.js';

describe('secretValues', () => {
  const config = parseConfigText(
    JSON.stringify({
      servers: {
        a: { command: 'x', env: { API_KEY: 'k3y!', MODE: 'fast', LONG_VALUE: 'abcdefghij', NAME: 'victim' } },
        b: { url: 'http://h/mcp', headers: { Authorization: 'Bearer t0k3n', 'X-Id': 'abcd' } },
      },
    }),
    { env: {} },
  );

  it('holds header values, named secrets and long env values, not short ordinary words', () => {
    const values = secretValues(config);
    expect(values).toEqual(expect.arrayContaining(['k3y!', 'abcdefghij', 'Bearer t0k3n', 'abcd']));
    expect(values).not.toContain('fast');
    expect(values).not.toContain('victim');
  });

  it('returns the same array for the same config', () => {
    expect(secretValues(config)).toBe(secretValues(config));
  });

  it('holds the tokens of auth, the credentials in server URLs and OAuth client secrets', () => {
    const withAuth = parseConfigText(
      JSON.stringify({
        servers: {
          r: { url: 'https://user:pa55word@h/mcp?api_key=url-key-1234&page=2' },
          o: { url: 'https://o/mcp', oauth: { client_id: 'mcproxy', client_secret: 'oauth-client-secret-42' } },
        },
        auth: { tokens: [{ id: 'alice', token: 'alice-token-0123456789' }] },
      }),
      { env: {} },
    );
    const values = secretValues(withAuth);
    expect(values).toEqual(
      expect.arrayContaining(['alice-token-0123456789', 'pa55word', 'url-key-1234', 'oauth-client-secret-42']),
    );
    expect(values).not.toContain('2');
  });
});
