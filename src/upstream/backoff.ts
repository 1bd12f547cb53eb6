import type { RestartPolicy } from '../config/model.js';

/** Delay before restart attempt `attempt` (1-based): base, 2×base, 4×base… capped at the policy's maximum. */
export function backoffDelayMs(attempt: number, policy: RestartPolicy): number {
  const exponent = Math.max(0, attempt - 1);
  return Math.min(policy.backoffMaxMs, policy.backoffBaseMs * 2 ** Math.min(exponent, 30));
}
