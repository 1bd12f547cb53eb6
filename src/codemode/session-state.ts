/** Largest `api.state` a session may keep, as JSON. */
export const MAX_STATE_BYTES = 256 * 1024;

/** The state an execution started from: its JSON, and how many saves the session had made by then. */
export interface StateSnapshot {
  json: string;
  saves: number;
}

/** What became of an execution's `api.state`. */
export type StateSaveResult = 'saved' | 'unchanged' | 'conflict';

/**
 * One session's `api.state`: JSON text that the next execution of the same session starts from. It lives in
 * the session's Code Mode tools and goes with them when the session ends; no other session can reach it.
 *
 * Executions of one session can overlap (a client may send several `execute` calls at once). Each starts from the
 * state as it is when it starts running; at its end it saves only what it changed, and only over the state it
 * started from. An execution that left `api.state` as it found it saves nothing, so it cannot undo another's save;
 * one that changed it after another execution saved is not saved ('conflict'), and its answer says so. No
 * update is lost without the client being told.
 */
export class SessionState {
  /** '' until an execution saves something. */
  json = '';
  private saves = 0;

  constructor(readonly maxBytes = MAX_STATE_BYTES) {}

  /** Called as an execution starts running. */
  snapshot(): StateSnapshot {
    return { json: this.json, saves: this.saves };
  }

  /** Keeps what a successful execution left in `api.state` (the worker already checked the size). */
  save(json: string, from: StateSnapshot): StateSaveResult {
    const normalized = json === '{}' ? '' : json;
    if (normalized === from.json) return 'unchanged';
    if (this.saves !== from.saves) return 'conflict';
    // The worker refuses a larger state before it gets here; this only guards the host against a broken worker.
    if (Buffer.byteLength(normalized) > this.maxBytes) return 'unchanged';
    this.json = normalized;
    this.saves++;
    return 'saved';
  }
}
