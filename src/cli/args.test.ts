import { describe, expect, it } from 'vitest';

import { DEFAULT_CONFIG_PATH, parseCliArgs, UsageError } from './args.js';

describe('parseCliArgs', () => {
  it('has the seeds defaults', () => {
    const args = parseCliArgs([]);
    expect(args).toMatchObject({ command: 'serve', config: DEFAULT_CONFIG_PATH, port: 12010, host: '127.0.0.1' });
    expect(args).toMatchObject({ log: false, stdio: false, reload: true, reloadIntervalMs: 1000 });
  });

  it('reads the seeds flags', () => {
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
});
