import { describe, expect, it } from 'vitest';

import { createLogger } from './log.js';
import { LogTail } from './log-tail.js';

describe('log tail', () => {
  it('keeps the last lines, masked, with session ids reduced to their digest', () => {
    const tail = new LogTail(3);
    const seen: string[] = [];
    tail.subscribe((entry) => seen.push(entry.msg));
    const log = createLogger({ tail, stream: { write: () => true }, redactValues: () => ['sk-live-123456'] });
    log.child({ server: 'github' }).warn('calling with sk-live-123456');
    log.info('Session 0b7c9a52-5f0e-4c55-9a8f-2f1e6a7b8c9d on /mcp');
    log.info('three');
    log.error('four');
    const entries = tail.entries();
    expect(entries.map((entry) => entry.msg)).toEqual([
      expect.stringMatching(/^Session session [0-9a-f]{8} on \/mcp$/),
      'three',
      'four',
    ]);
    expect(seen[0]).toBe('calling with [redacted]');
    expect(entries[2]).toMatchObject({ level: 'error' });
    expect(JSON.stringify(entries)).not.toContain('0b7c9a52');
  });

  it('reads the JSON format too', () => {
    const tail = new LogTail();
    createLogger({ tail, format: 'json', stream: { write: () => true } }).warn('json line');
    expect(tail.entries()).toEqual([expect.objectContaining({ level: 'warn', msg: 'json line' })]);
  });
});
