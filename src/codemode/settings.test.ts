import { describe, expect, it } from 'vitest';

import { resolveSandboxLimits } from './settings.js';

describe('resolveSandboxLimits', () => {
  it('applies the defaults and converts seconds', () => {
    expect(resolveSandboxLimits()).toEqual({
      timeoutMs: 30_000,
      memoryMb: 64,
      maxToolCalls: 50,
      maxCodeBytes: 65_536,
      maxOutputBytes: 1_048_576,
      maxConcurrent: 2,
      maxQueue: 16,
      network: { enabled: false, allowedHosts: [] },
    });
    expect(resolveSandboxLimits({ timeout_secs: 2.5, filesystem: { denied: ['/home'] } }).timeoutMs).toBe(2_500);
  });
});
