import { randomUUID } from 'node:crypto';

import type { JSONRPCRequest, ServerNotification } from '@modelcontextprotocol/sdk/types.js';

/** What a held call answers its current HTTP request with: the final result, or the input it needs. */
export type HeldOutcome =
  | { kind: 'result'; result: Record<string, unknown> }
  | { kind: 'error'; error: unknown }
  | { kind: 'input'; inputRequests: Record<string, { method: string; params?: unknown }> };

interface Question {
  request: { method: string; params?: unknown };
  resolve(result: Record<string, unknown>): void;
  reject(error: Error): void;
}

/** How long a held call waits for the client's retry before it is given up (and cancelled upstream). */
export const HELD_CALL_TTL_MS = 10 * 60_000;
/** Requests a server makes at the same moment are asked in one round. */
const GATHER_MS = 5;

/**
 * A call of a 2026-07-28 client to a legacy server, bridged across rounds. The server's requests to the client
 * (sampling, elicitation, roots) cannot be sent to a stateless client: they are held here, the client's HTTP
 * request is answered with `input_required`, and the client's retry brings the answers, which go to the server
 * while the same upstream call runs on. Several rounds are fine; so is a retry that lacks an answer (it is
 * asked again).
 */
export class HeldCall {
  readonly id = randomUUID();
  readonly abort = new AbortController();
  private readonly questions = new Map<string, Question>();
  private nextKey = 1;
  private settled?: HeldOutcome;
  private wake?: () => void;
  private gatherTimer?: NodeJS.Timeout;
  private expiry?: NodeJS.Timeout;
  /** Where notifications during the call go: the response stream of the round in progress. */
  private sink: (notification: ServerNotification) => void = () => {};

  constructor(
    /** Who may redeem the call's request state, and for which request. */
    readonly principal: string,
    readonly request: string,
    private readonly onEnd: (call: HeldCall) => void,
  ) {}

  /** Runs the call; the call's origin asks and notifies through this object. */
  start(run: (signal: AbortSignal) => Promise<Record<string, unknown>>): void {
    run(this.abort.signal).then(
      (result) => this.settle({ kind: 'result', result }),
      (error: unknown) => this.settle({ kind: 'error', error }),
    );
  }

  /** A request of the server during the call: held until the client's retry answers it. */
  ask(request: JSONRPCRequest, signal: AbortSignal): Promise<Record<string, unknown>> {
    const key = `r${this.nextKey++}`;
    return new Promise((resolve, reject) => {
      const cleanup = () => {
        this.questions.delete(key);
        signal.removeEventListener('abort', onAbort);
      };
      const onAbort = () => {
        cleanup();
        reject(new Error('the server withdrew its request'));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.questions.set(key, {
        request: { method: request.method, ...(request.params === undefined ? {} : { params: request.params }) },
        resolve: (result) => {
          cleanup();
          resolve(result);
        },
        reject: (error) => {
          cleanup();
          reject(error);
        },
      });
      // Gather what the server asks at the same moment into one round.
      this.gatherTimer ??= setTimeout(() => {
        this.gatherTimer = undefined;
        this.wake?.();
      }, GATHER_MS);
    });
  }

  notify(notification: ServerNotification): void {
    this.sink(notification);
  }

  /**
   * Waits for what the current round answers with. Answers the questions a retry brought first (`responses`,
   * keyed as asked; unknown keys are ignored), and asks again for any it did not answer.
   */
  async next(
    sink: (notification: ServerNotification) => void,
    responses?: Record<string, unknown>,
  ): Promise<HeldOutcome> {
    this.sink = sink;
    this.clearExpiry();
    for (const [key, answer] of Object.entries(responses ?? {})) {
      const question = this.questions.get(key);
      if (question && answer && typeof answer === 'object') question.resolve(answer as Record<string, unknown>);
    }
    await new Promise<void>((resolve) => {
      this.wake = resolve;
      if (this.settled || (this.questions.size > 0 && this.gatherTimer === undefined)) resolve();
    });
    this.wake = undefined;
    this.sink = () => {};
    if (this.settled) {
      this.onEnd(this);
      return this.settled;
    }
    this.armExpiry();
    return { kind: 'input', inputRequests: this.openQuestions() };
  }

  /** Ends the call with this error now (what the client gets), and cancels it upstream. */
  fail(error: Error): void {
    this.settle({ kind: 'error', error });
    this.abort.abort(error);
  }

  /** The client never came back (or is gone): cancel upstream and forget the call. */
  giveUp(reason: string): void {
    this.clearExpiry();
    for (const question of [...this.questions.values()]) question.reject(new Error(reason));
    this.abort.abort(new Error(reason));
    this.onEnd(this);
  }

  private openQuestions(): Record<string, { method: string; params?: unknown }> {
    const open: Record<string, { method: string; params?: unknown }> = {};
    for (const [key, question] of this.questions) open[key] = question.request;
    return open;
  }

  private settle(outcome: HeldOutcome): void {
    this.settled ??= outcome;
    this.clearExpiry();
    // Between rounds nobody waits: the outcome is kept for the client's retry, but only as long as a question
    // would be, or a client that never came back would leave the call here for good.
    if (this.wake) this.wake();
    else this.armExpiry();
  }

  private armExpiry(): void {
    this.expiry = setTimeout(
      () => this.giveUp('the client did not answer the input request in time'),
      HELD_CALL_TTL_MS,
    );
    this.expiry.unref();
  }

  private clearExpiry(): void {
    if (this.expiry) clearTimeout(this.expiry);
    this.expiry = undefined;
  }
}

/** The held calls of the gateway, by id; bounded so that abandoned calls cannot pile up. */
export class HeldCalls {
  private readonly calls = new Map<string, HeldCall>();

  constructor(private readonly max = 10_000) {}

  create(principal: string, request: string): HeldCall {
    if (this.calls.size >= this.max) {
      const oldest = this.calls.values().next().value;
      oldest?.giveUp('too many calls are waiting for input');
    }
    const call = new HeldCall(principal, request, (ended) => this.calls.delete(ended.id));
    this.calls.set(call.id, call);
    return call;
  }

  get(id: unknown): HeldCall | undefined {
    return typeof id === 'string' ? this.calls.get(id) : undefined;
  }

  get size(): number {
    return this.calls.size;
  }

  closeAll(): void {
    for (const call of [...this.calls.values()]) call.giveUp('the gateway is shutting down');
  }
}
