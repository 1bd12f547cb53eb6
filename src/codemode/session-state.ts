/** Largest `api.state` a session may keep, as JSON. */
export const MAX_STATE_BYTES = 256 * 1024;

/**
 * One session's `api.state`: JSON text that the next execution of the same session starts from. It lives in
 * the session's Code Mode tools and goes with them when the session ends; no other session can reach it.
 */
export class SessionState {
  /** '' until an execution saves something. */
  json = '';

  constructor(readonly maxBytes = MAX_STATE_BYTES) {}

  /** Keeps what a successful execution left in `api.state` (the worker already checked the size). */
  save(json: string): void {
    if (Buffer.byteLength(json) <= this.maxBytes) this.json = json === '{}' ? '' : json;
  }
}
