import type { GatewayConfig } from '../config/model.js';

export const DEFAULT_MAX_SESSIONS = 1_000;
export const DEFAULT_MAX_SESSIONS_PER_CLIENT = 100;
export const DEFAULT_SESSION_IDLE_TIMEOUT_MS = 10 * 60_000;
/** The longest Retry-After a full gateway suggests: sessions free up as clients leave or idle out. */
const MAX_RETRY_AFTER_SECONDS = 60;
/** Idle sessions ended per turn of the event loop: thousands falling idle together must not stall it. */
const EXPIRED_PER_TURN = 25;

export interface SessionLimits {
  max: number;
  maxPerClient: number;
  idleTimeoutMs: number;
}

/** The session limits of a config, defaults filled in. */
export function sessionLimits(config: GatewayConfig): SessionLimits {
  return {
    max: config.sessions?.max ?? DEFAULT_MAX_SESSIONS,
    maxPerClient: config.sessions?.maxPerClient ?? DEFAULT_MAX_SESSIONS_PER_CLIENT,
    idleTimeoutMs: config.sessions?.idleTimeoutMs ?? DEFAULT_SESSION_IDLE_TIMEOUT_MS,
  };
}

export interface SlotRefusal {
  /** 503 when the gateway as a whole is full, 429 when this client holds its share. */
  status: 503 | 429;
  message: string;
  retryAfterSeconds: number;
}

/** What a slot watches of an HTTP exchange: its `close` event (a Node response, or any emitter in tests). */
interface Exchange {
  on(event: 'close', listener: () => void): unknown;
}

/**
 * The place of one HTTP session among all of them. The session is busy while one of its HTTP exchanges is open
 * (a POST awaiting its answer, a GET stream); once none is, it is ended after the idle timeout unless another
 * exchange comes first. One timer per session, refreshed rather than made anew: when it fires while an exchange is
 * open, nothing happens, and the close of the last open exchange starts the wait again.
 */
export class SessionSlot {
  /** Ends the session; called once it has been idle for the idle timeout. */
  onIdle?: () => void;
  private open = 0;
  private timer?: NodeJS.Timeout;
  private timeoutMs = 0;
  private released = false;

  constructor(
    private readonly owner: SessionSlots,
    readonly client: string,
  ) {
    this.armIdleTimer();
  }

  /** Counts `res` (an HTTP response) as an open exchange of the session until it closes. */
  during(res: Exchange): void {
    if (this.released) return;
    this.open++;
    // A response closes once: `on` spares the wrapper `once` makes, and one listener serves all of them.
    res.on('close', this.exchangeClosed);
  }

  private readonly exchangeClosed = (): void => {
    this.open--;
    if (this.open === 0) this.armIdleTimer();
  };

  /** @internal Whether the session is still idle, so that its expiry may go ahead. */
  get idle(): boolean {
    return !this.released && this.open === 0;
  }

  /** The session has ended: its place is free. Idempotent. */
  release(): void {
    if (this.released) return;
    this.released = true;
    clearTimeout(this.timer);
    this.owner.free(this.client);
  }

  /** Starts the idle wait over; the timeout is read each time, so a reload applies to the next wait. */
  private armIdleTimer(): void {
    if (this.released) return;
    const timeoutMs = this.owner.limits().idleTimeoutMs;
    if (this.timer && timeoutMs === this.timeoutMs) {
      this.timer.refresh();
      return;
    }
    clearTimeout(this.timer);
    this.timeoutMs = timeoutMs;
    this.timer = setTimeout(() => {
      if (this.idle) this.owner.expire(this);
    }, timeoutMs);
    this.timer.unref();
  }
}

/**
 * Counts the HTTP sessions, in all and per client (a credential, or an address without one), so that no client
 * and no crowd can open sessions without bound; the limits are read at every claim, so a reload applies at once.
 *
 * @example
 * const slot = slots.claim('credential:alice');
 * if (!(slot instanceof SessionSlot)) return refuse(res, slot);
 * slot.onIdle = () => void session.close();
 */
export class SessionSlots {
  private readonly perClient = new Map<string, number>();
  private total = 0;
  private readonly expiring = new Set<SessionSlot>();
  private draining = false;

  constructor(readonly limits: () => SessionLimits) {}

  get size(): number {
    return this.total;
  }

  /** A place for a new session of `client`, or why there is none. */
  claim(client: string): SessionSlot | SlotRefusal {
    const { max, maxPerClient, idleTimeoutMs } = this.limits();
    const retryAfterSeconds = Math.max(1, Math.min(MAX_RETRY_AFTER_SECONDS, Math.ceil(idleTimeoutMs / 1000)));
    if (this.total >= max) {
      return {
        status: 503,
        message: `Service Unavailable: the gateway holds its maximum of ${max} sessions; retry in ${retryAfterSeconds} s`,
        retryAfterSeconds,
      };
    }
    const held = this.perClient.get(client) ?? 0;
    if (held >= maxPerClient) {
      return {
        status: 429,
        message: `Too Many Requests: this client holds its maximum of ${maxPerClient} sessions; end one (DELETE) or retry in ${retryAfterSeconds} s`,
        retryAfterSeconds,
      };
    }
    this.total++;
    this.perClient.set(client, held + 1);
    return new SessionSlot(this, client);
  }

  /** @internal Queues the end of an idle session; the queue is worked off a few at a time. */
  expire(slot: SessionSlot): void {
    this.expiring.add(slot);
    if (this.draining) return;
    this.draining = true;
    setImmediate(this.drain);
  }

  private readonly drain = (): void => {
    let ended = 0;
    for (const slot of this.expiring) {
      this.expiring.delete(slot);
      if (slot.idle) slot.onIdle?.();
      if (++ended === EXPIRED_PER_TURN) break;
    }
    if (this.expiring.size > 0) setImmediate(this.drain);
    else this.draining = false;
  };

  /** @internal Called by a slot once, when its session ends. */
  free(client: string): void {
    this.total--;
    const held = (this.perClient.get(client) ?? 1) - 1;
    if (held <= 0) this.perClient.delete(client);
    else this.perClient.set(client, held);
  }
}
