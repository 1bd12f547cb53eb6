import { randomBytes } from 'node:crypto';

import type { StartedSignIn } from './sign-in-flow.js';

/** How long a sign-in link works. */
export const SIGN_IN_TTL_MS = 10 * 60_000;
/** A link with less time left than this is not handed out again; a fresh one is made. */
const REUSE_MARGIN_MS = 60_000;
const MAX_PENDING = 200;

/** A sign-in started through the gateway, waiting for its callback. Held in memory only. */
export interface PendingSignIn extends StartedSignIn {
  /** The OAuth `state`, 256 random bits: also the id of the gateway's sign-in page. */
  state: string;
  server: string;
  account: string;
  redirectUrl: string;
  expiresAt: number;
  /** 256 random bits the sign-in page leaves in the browser's cookie; its callback must bring them back. */
  browserKey: string;
  /** Settles when the sign-in ends: resolves once the tokens are stored, rejects when refused or failed. */
  done: Promise<void>;
  settle(error?: Error): void;
}

/**
 * The sign-ins waiting for their callback, by `state`. Each is used once; at most 200 wait (the oldest make
 * room), for 10 minutes each. A second caller of the same account and server gets the sign-in already started.
 */
export class PendingSignIns {
  private readonly byState = new Map<string, PendingSignIn>();

  constructor(private readonly now: () => number) {}

  add(entry: Omit<PendingSignIn, 'expiresAt' | 'browserKey' | 'done' | 'settle'>): PendingSignIn {
    this.prune();
    if (this.byState.size >= MAX_PENDING) this.drop(this.byState.keys().next().value!);
    let settle!: (error?: Error) => void;
    const done = new Promise<void>((resolve, reject) => {
      settle = (error) => (error ? reject(error) : resolve());
    });
    // Nobody may be waiting for it: a refusal must not become an unhandled rejection.
    done.catch(() => {});
    const pending: PendingSignIn = {
      ...entry,
      expiresAt: this.now() + SIGN_IN_TTL_MS,
      browserKey: randomBytes(32).toString('base64url'),
      done,
      settle,
    };
    this.byState.set(entry.state, pending);
    return pending;
  }

  /** The live sign-in with this state, left in place (the sign-in page shows it). */
  find(state: string): PendingSignIn | undefined {
    const pending = this.byState.get(state);
    return pending && pending.expiresAt > this.now() ? pending : undefined;
  }

  /** Takes the sign-in out: its callback came. */
  take(state: string): PendingSignIn | undefined {
    const pending = this.find(state);
    if (pending) this.byState.delete(state);
    return pending;
  }

  /** A live sign-in of this account at this server with time to spare. */
  forAccount(server: string, account: string): PendingSignIn | undefined {
    for (const pending of this.byState.values()) {
      if (pending.server === server && pending.account === account && pending.expiresAt - REUSE_MARGIN_MS > this.now())
        return pending;
    }
    return undefined;
  }

  private prune(): void {
    for (const [state, pending] of this.byState) if (pending.expiresAt <= this.now()) this.drop(state);
  }

  private drop(state: string): void {
    this.byState.get(state)?.settle(new Error('the sign-in link expired'));
    this.byState.delete(state);
  }
}
