import { createHash, timingSafeEqual } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';

/** Failed sign-ins one client address may make in a window; past that, that address is refused until it passes. */
const MAX_FAILURES_PER_ADDRESS = 10;
export const FAILURE_WINDOW_MS = 15 * 60_000;
/** Addresses remembered at once; the one that failed longest ago makes room. */
const MAX_ADDRESSES = 10_000;
/**
 * Failures in a window from all addresses together past which every answer is held back: guessing from many
 * addresses gets slower, while the owner, from an address of their own, can still sign in.
 */
const GLOBAL_SLOW_AFTER = 100;
export const SLOWDOWN_MS = 2_000;

export type OwnerVerdict = 'ok' | 'wrong' | 'locked';

export interface OwnerGate {
  /** Checks a typed password from `address`; `delayMs` is how long to hold the answer back. */
  check(typed: string, expected: string, address: string | undefined): { verdict: OwnerVerdict; delayMs: number };
}

/**
 * Checks the owner's password in constant time (SHA-256 digests compared with `timingSafeEqual`) and counts
 * failures per client address (an IPv6 address by its /64, which one machine usually holds whole): an address
 * past its limit is refused, even the right password, until its window has passed. Nobody can lock the owner
 * out from elsewhere; many addresses failing together only slow every answer down. Counting happens before
 * the answer is sent, so parallel guesses from one address are counted too.
 *
 * @example const gate = createOwnerGate(() => Date.now()); gate.check(typed, config.ownerPassword, req.ip)
 */
export function createOwnerGate(now: () => number): OwnerGate {
  /** Failure times per address, in order of each address's latest failure (oldest first). */
  const failures = new Map<string, number[]>();
  /** The times of the latest GLOBAL_SLOW_AFTER failures, from any address. */
  const recent: number[] = [];
  return {
    check(typed, expected, address) {
      const time = now();
      const since = time - FAILURE_WINDOW_MS;
      forgetBefore(failures, since);
      const key = addressKey(address);
      const mine = (failures.get(key) ?? []).filter((at) => at > since);
      const slowed = recent.length >= GLOBAL_SLOW_AFTER && recent[0]! > since;
      const delayMs = slowed ? SLOWDOWN_MS : 0;
      if (mine.length >= MAX_FAILURES_PER_ADDRESS) return { verdict: 'locked', delayMs };
      if (timingSafeEqual(sha256(typed), sha256(expected))) return { verdict: 'ok', delayMs };
      mine.push(time);
      failures.delete(key);
      failures.set(key, mine);
      if (failures.size > MAX_ADDRESSES) failures.delete(failures.keys().next().value!);
      recent.push(time);
      if (recent.length > GLOBAL_SLOW_AFTER) recent.shift();
      return { verdict: 'wrong', delayMs };
    },
  };
}

/** Drops the addresses whose latest failure is out of the window (they come first in the map). */
function forgetBefore(failures: Map<string, number[]>, since: number): void {
  for (const [key, times] of failures) {
    if (times[times.length - 1]! > since) return;
    failures.delete(key);
  }
}

/** What failures are counted under: an IPv4 address (also IPv4-mapped IPv6), or an IPv6 address's /64. */
export function addressKey(address: string | undefined): string {
  if (address === undefined) return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (isIPv4(address) || !isIPv6(address)) return address;
  const [head = '', tail = ''] = address.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = address.includes('::') && tail !== '' ? tail.split(':') : [];
  const groups = address.includes('::')
    ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((group) => Number.parseInt(group, 16).toString(16))
    .join(':')}::/64`;
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
