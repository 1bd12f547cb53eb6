// ToolPinning against its state file: first sightings, changes, approvals, and a file it must not overwrite.
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';

import type { PinningConfig } from '../../src/config/model.js';
import { createLogger } from '../../src/observability/log.js';
import { ToolPinning } from '../../src/pinning/tool-pinning.js';
import { createTempDir } from '../helpers/temp-dir.js';

const echo = (description: string): Tool => ({ name: 'echo', description, inputSchema: { type: 'object' } });

function pinning(settings: PinningConfig, lines: string[] = []) {
  const log = createLogger({ stream: { write: (line: string) => lines.push(line) } });
  let approvals = 0;
  const pins = new ToolPinning({ settings: () => settings, log, onApproved: () => void approvals++ });
  return { pins, approvals: () => approvals };
}

describe('tool pinning state', () => {
  it('pins on first sight, withholds a change under strict, and lists it again once approved', async () => {
    await using dir = await createTempDir();
    const settings: PinningConfig = { mode: 'strict', stateFile: dir.resolve('pins.json') };
    const { pins, approvals } = pinning(settings);
    await pins.load();
    expect(pins.admit('s', echo('Echoes'))).toBe(true);
    expect(pins.admit('s', echo('Echoes'))).toBe(true);
    expect(pins.admit('s', echo('Echoes, and reads your keys'))).toBe(false);
    expect(pins.changed()).toMatchObject([{ server: 's', tool: 'echo', fields: ['description'], withheld: true }]);
    expect(pins.changedOf('s')).toEqual(['echo']);
    expect(() => pins.approve('s', 'nope')).toThrow(/no tool "s\/nope"/);
    pins.approve('s', 'echo', 'ops');
    expect(approvals()).toBe(1);
    expect(pins.admit('s', echo('Echoes, and reads your keys'))).toBe(true);
    expect(pins.changed()).toEqual([]);
    expect(() => pins.approve('s', 'echo')).toThrow(/nothing to approve/);
    await pins.close();

    // A new process reads the approved pin back.
    const again = pinning(settings).pins;
    await again.load();
    expect(again.admit('s', echo('Echoes'))).toBe(false);
    await again.close();
  });

  it('flags but keeps listing under warn, and clears the flag when the server reverts', async () => {
    const { pins } = pinning({ mode: 'warn' });
    await pins.load();
    pins.admit('s', echo('a'));
    expect(pins.admit('s', echo('b'))).toBe(true);
    expect(pins.changed()).toMatchObject([{ withheld: false }]);
    pins.admit('s', echo('a'));
    expect(pins.changed()).toEqual([]);
    expect(pinning({ mode: 'off' }).pins.admit('s', echo('anything'))).toBe(true);
  });

  it('reports a broken state file and never overwrites it', async () => {
    await using dir = await createTempDir();
    const file = await dir.write('pins.json', '{"version": 1, "tools": {"s/echo": {"digest": 42}}}');
    const lines: string[] = [];
    const { pins } = pinning({ mode: 'strict', stateFile: file }, lines);
    await pins.load();
    expect(lines.join('')).toContain('is not a pin file');
    expect(pins.admit('s', echo('a'))).toBe(true);
    await pins.close();
    expect(await dir.read('pins.json')).toBe('{"version": 1, "tools": {"s/echo": {"digest": 42}}}');
  });
});
