import { describe, expect, it } from 'vitest';

import { parsePath, withPositions } from './issue-positions.js';
import { parseConfigText } from './load.js';

function messageOf(text: string, path = 'cfg.json'): string {
  try {
    parseConfigText(text, { path, env: {} });
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected the config to be rejected');
}

describe('schema errors carry the line and column of their field', () => {
  it('in pretty JSON: a wrong type, a typo, a missing field, a v1 entry, a quoted key', () => {
    const text = JSON.stringify(
      {
        servers: { github: { command: 'gh', timeout: 'soon' }, docs: { comand: 'x' } },
        mcpServers: { 'my server': { command: 'x' } },
        namespaces: { team: { servers: ['nope'] } },
      },
      null,
      2,
    );
    expect(messageOf(text).split('\n')).toEqual([
      'cfg.json:5:7: servers.github.timeout: expected number, received string',
      'cfg.json:8:7: servers.docs.comand: unknown field; did you mean "command"?',
      'cfg.json:12:5: mcpServers["my server"]: invalid name: a server name may contain only letters, digits, "_" and "-"',
      'cfg.json:19:9: namespaces.team.servers[0]: unknown server "nope"',
    ]);
  });

  it('in YAML, with a list entry named by its server', () => {
    const yaml = 'servers:\n  - name: a\n    command: x\n  - name: wiki\n    command: 5\n';
    expect(messageOf(yaml, 'c.yaml')).toBe('c.yaml:5:5: servers[1] (wiki).command: expected string, received number');
  });

  it('points a missing field at the entry that lacks it', () => {
    const text = '{\n  "servers": {\n    "a": {\n      "args": []\n    }\n  }\n}\n';
    expect(messageOf(text)).toMatch(/^cfg\.json:3:5: servers\.a: needs "command"/);
  });

  it('leaves issues without a field, and text it cannot read, as they are', () => {
    expect(withPositions('{', [{ path: 'servers', message: 'm' }])).toEqual([{ path: 'servers', message: 'm' }]);
    expect(withPositions('{}', [{ path: '', message: 'm' }])).toEqual([{ path: '', message: 'm' }]);
    expect(withPositions('{"a":1}', [{ path: 'zz', message: 'm' }])).toEqual([{ path: 'zz', message: 'm' }]);
  });
});

describe('parsePath', () => {
  it('reads what formatPath writes', () => {
    expect(parsePath('servers.github.env.API_KEY')).toEqual(['servers', 'github', 'env', 'API_KEY']);
    expect(parsePath('servers[0] (github).command')).toEqual(['servers', 0, 'command']);
    expect(parsePath('mcpServers["my server"].args[2]')).toEqual(['mcpServers', 'my server', 'args', 2]);
    expect(parsePath('namespaces["../system"]')).toEqual(['namespaces', '../system']);
    expect(parsePath('.x')).toBeUndefined();
    expect(parsePath('a b')).toBeUndefined();
  });
});
