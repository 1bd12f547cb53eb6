import { describe, expect, it } from 'vitest';

import { helpText, parseCliArgs, UsageError } from './args.js';

describe('parseCliArgs', () => {
  it('has the classic defaults, the config left to discovery', () => {
    const args = parseCliArgs([]);
    expect(args).toMatchObject({ command: 'serve', port: 12010, host: '127.0.0.1' });
    expect(args.config).toBeUndefined();
    expect(args).toMatchObject({ log: false, stdio: false, reload: true, reloadIntervalMs: 1000 });
  });

  it('reads the classic flags', () => {
    const args = parseCliArgs([
      '--log',
      '--port',
      '0',
      '--config',
      'x.yaml',
      '--no-reload',
      '--reload-interval',
      '2.5',
    ]);
    expect(args).toMatchObject({ log: true, port: 0, config: 'x.yaml', reload: false, reloadIntervalMs: 2500 });
  });

  it('takes the config of check from its position', () => {
    expect(parseCliArgs(['check', 'a.json', '--start'])).toMatchObject({
      command: 'check',
      config: 'a.json',
      start: true,
    });
  });

  it('reads login with its server and options', () => {
    expect(parseCliArgs(['login', 'github', '--callback-port', '4567', '--no-browser'])).toMatchObject({
      command: 'login',
      login: { server: 'github', callbackPort: 4567, browser: false, signOut: false },
    });
    expect(() => parseCliArgs(['login'])).toThrow(/needs a server/);
    expect(() => parseCliArgs(['login', 'github', '--callback-port', 'x'])).toThrow(/--callback-port/);
  });

  it('refuses unknown flags, commands and bad values with a usage error', () => {
    expect(() => parseCliArgs(['--prot', '1'])).toThrow(UsageError);
    expect(() => parseCliArgs(['serv'])).toThrow(/unknown command/);
    expect(() => parseCliArgs(['--port', '70000'])).toThrow(/--port/);
    expect(() => parseCliArgs(['--mode', 'fast'])).toThrow(/--mode/);
  });

  it('refuses an empty or non-numeric --port instead of binding a random one', () => {
    for (const port of ['', ' ', '12a', '-1', '1e3', '0x10']) {
      expect(() => parseCliArgs([`--port=${port}`]), port).toThrow(/--port must be a number/);
    }
    expect(parseCliArgs(['--port', '0']).port).toBe(0);
  });

  it('lets --log-format choose the log (stdout) on its own', () => {
    expect(parseCliArgs(['--log-format', 'json'])).toMatchObject({ log: true, logFormat: 'json' });
    expect(parseCliArgs(['--stdio', '--log-format', 'json'])).toMatchObject({ stdio: true, logFormat: 'json' });
  });

  it('refuses an option a command does not take, and stray arguments', () => {
    expect(() => parseCliArgs(['check', '--port', '1'])).toThrow(/mcproxy check takes no --port/);
    expect(() => parseCliArgs(['schema', 'extra'])).toThrow(/unexpected argument "extra"/);
    expect(() => parseCliArgs(['client-config'])).toThrow(/needs a client/);
    expect(() => parseCliArgs(['client-config', 'cursor', '--stdio', '--url', 'http://x/mcp'])).toThrow(/exclude/);
  });

  it('gives each command its own help', () => {
    expect(parseCliArgs(['check', '--help'])).toMatchObject({ command: 'help', topic: 'check' });
    expect(parseCliArgs(['help', 'init'])).toMatchObject({ command: 'help', topic: 'init' });
    expect(parseCliArgs(['--help'])).toMatchObject({ command: 'help' });
    expect(parseCliArgs(['--help']).topic).toBeUndefined();
    expect(helpText('check')).toMatch(/^mcproxy check \[CONFIG\] \[--start\]/);
    expect(helpText('client-config')).toContain('claude-desktop, claude-code, cursor, vscode, windsurf, cline');
    expect(helpText()).toContain('mcproxy COMMAND --help');
    expect(helpText()).toContain('--reload-interval');
  });
});
