import type { RestartPolicy } from '../config/model.js';

/** Delay before restart attempt `attempt` (1-based): base, 2×base, 4×base… capped at the policy's maximum. */
export function backoffDelayMs(attempt: number, policy: RestartPolicy): number {
  const exponent = Math.max(0, attempt - 1);
  return Math.min(policy.backoffMaxMs, policy.backoffBaseMs * 2 ** Math.min(exponent, 30));
}

/** Whether a run that lasted `uptimeMs` was stable: the next failure then counts as the first attempt again. */
export function isStableRun(uptimeMs: number, policy: RestartPolicy): boolean {
  return uptimeMs >= policy.stableAfterMs;
}
