import { describe, expect, it } from 'vitest';

import { parseConfigText } from '../config/load.js';
import { exposureWarning } from './startup-notes.js';

const TOKEN = 'a-token-of-sixteen-chars-or-more';
const config = (file: object) => parseConfigText(JSON.stringify(file), { env: {} });

describe('exposureWarning', () => {
  const open = config({ servers: { a: { command: 'x' } } });

  it('says nothing on a loopback address', () => {
    for (const host of ['127.0.0.1', '127.0.0.2', 'localhost', '::1', '[::1]']) {
      expect(exposureWarning(host, open), host).toBeUndefined();
    }
  });

  it('warns when a network can reach endpoints without a credential, naming them', () => {
    for (const host of ['0.0.0.0', '::', '192.168.1.10', 'gateway.lan']) {
      expect(exposureWarning(host, open), host).toMatch(/without authentication: .*\/mcp and \/sse/);
    }
    const mixed = config({
      servers: { a: { command: 'x' }, b: { command: 'y' } },
      namespaces: { public: { servers: ['b'], require_auth: false } },
      auth: { tokens: [{ id: 'me', token: TOKEN }] },
    });
    const warning = exposureWarning('0.0.0.0', mixed);
    expect(warning).toContain('/ns/public/mcp');
    expect(warning).not.toContain('/mcp and /sse');
  });

  it('says nothing when every endpoint needs a credential', () => {
    const closed = config({ servers: { a: { command: 'x' } }, auth: { tokens: [{ id: 'me', token: TOKEN }] } });
    expect(exposureWarning('0.0.0.0', closed)).toBeUndefined();
  });
});
