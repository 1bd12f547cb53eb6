import type { SandboxSettings } from '../config/schema.js';

/** The `sandbox` block with its defaults applied; durations in milliseconds. */
export interface SandboxLimits {
  timeoutMs: number;
  memoryMb: number;
  maxToolCalls: number;
  maxCodeBytes: number;
  maxOutputBytes: number;
  maxConcurrent: number;
  maxQueue: number;
  network: { enabled: boolean; allowedHosts: string[] };
}

export const DEFAULT_SANDBOX_LIMITS: SandboxLimits = {
  timeoutMs: 30_000,
  memoryMb: 64,
  maxToolCalls: 50,
  maxCodeBytes: 64 * 1024,
  maxOutputBytes: 1024 * 1024,
  maxConcurrent: 2,
  maxQueue: 16,
  network: { enabled: false, allowedHosts: [] },
};

/**
 * Applies defaults to the config's `sandbox` block. `env_isolation` needs nothing (the guest never sees an
 * environment) and `filesystem` means nothing: the guest has no filesystem at all, so its `read_only` and
 * `denied` lists are accepted for compatibility with the seeds' configs and ignored.
 *
 * @example
 * resolveSandboxLimits({ timeout_secs: 5 }).timeoutMs; // 5000
 */
export function resolveSandboxLimits(settings: SandboxSettings = {}): SandboxLimits {
  const d = DEFAULT_SANDBOX_LIMITS;
  return {
    timeoutMs: settings.timeout_secs === undefined ? d.timeoutMs : Math.round(settings.timeout_secs * 1000),
    memoryMb: settings.memory_mb ?? d.memoryMb,
    maxToolCalls: settings.max_tool_calls ?? d.maxToolCalls,
    maxCodeBytes: settings.max_code_bytes ?? d.maxCodeBytes,
    maxOutputBytes: settings.max_output_bytes ?? d.maxOutputBytes,
    maxConcurrent: settings.max_concurrent ?? d.maxConcurrent,
    maxQueue: settings.max_queue ?? d.maxQueue,
    network: {
      enabled: settings.network?.enabled ?? false,
      allowedHosts: settings.network?.allowed_hosts ?? [],
    },
  };
}
