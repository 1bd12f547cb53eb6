import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createTempDir, type TempDir } from '../helpers/temp-dir.js';
import { bearer, INITIALIZE, rawRequest } from './access-helpers.js';
import {
  type InProcessGateway,
  INTROSPECTOR_SECRET,
  startAuthorizationServer,
  startInProcessGateway,
  type TestAuthorizationServer,
} from './oauth-helpers.js';

let dir: TempDir;
let idp: TestAuthorizationServer;
let gw: InProcessGateway;

beforeAll(async () => {
  dir = await createTempDir();
  // Every token is opaque, so the gateway must introspect it.
  idp = await startAuthorizationServer(() => true);
  const configPath = await dir.write('gateway.json', {
    servers: {},
    auth: {
      oauth: {
        authorization_servers: [
          {
            issuer: idp.issuer,
            name: 'idp',
            introspection: { client_id: 'gateway', client_secret: INTROSPECTOR_SECRET, cache_secs: 30 },
          },
        ],
      },
    },
  });
  gw = await startInProcessGateway(dir, configPath);
});

afterAll(async () => {
  await gw?.close();
  await idp?.close();
  await dir?.[Symbol.asyncDispose]();
});

const initialize = async (token: string): Promise<number> =>
  (await rawRequest(`${gw.url}/mcp`, { body: INITIALIZE, headers: bearer(token) })).status;

describe('introspection answers are reused (RFC 7662 §4)', () => {
  it('a token nobody issued, sent again and again and at once, is asked about once in a while', async () => {
    const junk = 'opaque-junk-token-7f3a9c1e5b2d8046';
    const before = idp.introspections;
    expect(await initialize(junk)).toBe(401);
    for (let i = 0; i < 5; i++) expect(await initialize(junk)).toBe(401);
    expect(await Promise.all(Array.from({ length: 5 }, () => initialize(junk)))).toEqual(Array(5).fill(401));
    expect(idp.introspections - before).toBe(1);
    // A refusal is believed for a few seconds only: a token just issued may not be known everywhere yet.
    gw.advance(6_000);
    expect(await initialize(junk)).toBe(401);
    expect(idp.introspections - before).toBe(2);
  });

  it('an active token is asked about once for cache_secs', async () => {
    const token = await idp.token({ resource: gw.url, scope: 'mcp:public' });
    const before = idp.introspections;
    for (let i = 0; i < 3; i++) expect(await initialize(token)).toBe(200);
    expect(idp.introspections - before).toBe(1);
    gw.advance(31_000);
    expect(await initialize(token)).toBe(200);
    expect(idp.introspections - before).toBe(2);
  });
});
