/**
 * Messages between the sandbox pool (main thread) and a sandbox worker. Everything the guest produces
 * crosses as a JSON string (`json`, `resultJson`, `text`), never as a structured object, so nothing the
 * guest builds is ever materialised on the host except through `safeJsonParse`.
 */

export type LogLevel = 'log' | 'info' | 'warn' | 'error' | 'debug';

/**
 * What a console line costs of the output limit besides its text: its entry in the answer's `logs`
 * (`{"level":"debug","message":""},`). Without it, empty lines would cost nothing and have no bound.
 */
export const LOG_LINE_OVERHEAD_BYTES = 32;

/** Host operations the guest can ask for; each carries one JSON string of arguments. */
export type HostOp = 'call_tool' | 'parallel' | 'manifest' | 'search' | 'fetch';

/** Kinds of failure an execution can end with. */
export type SandboxErrorType =
  | 'SyntaxError'
  | 'Error'
  | 'Timeout'
  | 'MemoryLimit'
  | 'LimitExceeded'
  | 'Unsettled'
  | 'Cancelled'
  | 'Busy'
  | 'Internal';

export interface SandboxErrorInfo {
  type: SandboxErrorType;
  message: string;
  /** The guest's error class (`TypeError`, `ToolError`…) when the code threw. */
  name?: string;
  /** 1-based, relative to the code as the caller sent it. */
  line?: number;
  column?: number;
  /** Set on a ToolError. */
  server?: string;
  tool?: string;
}

export interface RunLimits {
  timeoutMs: number;
  memoryMb: number;
  maxOutputBytes: number;
  /** Checked by the worker too, so that a flood of calls ends with this limit before any other. */
  maxToolCalls: number;
}

export interface RunMessage {
  type: 'run';
  runId: number;
  code: string;
  limits: RunLimits;
  /** The session's `api.state` as JSON ('' for empty); absent when the execution has no store. */
  stateJson?: string;
  maxStateBytes?: number;
}

/**
 * The host's answer to a `call`: `json` is `{"ok":true,"value":…}` or `{"ok":false,"error":{…}}`, handed to
 * the guest as it is. `fatal` ends the execution with that error whatever the guest does (limits).
 */
export interface ReplyMessage {
  type: 'reply';
  runId: number;
  callId: number;
  json: string;
  fatal?: SandboxErrorInfo;
}

export type ToWorkerMessage = RunMessage | ReplyMessage;

export interface CallMessage {
  type: 'call';
  runId: number;
  callId: number;
  op: HostOp;
  json: string;
}

export interface LogMessage {
  type: 'log';
  runId: number;
  level: LogLevel;
  text: string;
}

export interface DoneMessage {
  type: 'done';
  runId: number;
  /** Present on success: the guest's return value, serialised by the guest's own JSON.stringify. */
  resultJson?: string;
  error?: SandboxErrorInfo;
  /** Set when the result was cut to fit the output limit: what was left out. */
  truncated?: TruncationCounts;
  /** On success of an execution with a store: `api.state` as it is now. */
  stateJson?: string;
}

export interface TruncationCounts {
  items: number;
  keys: number;
  characters: number;
}

/** The worker has a fresh instance ready: an execution sent to it now starts without waiting for one. */
export interface ReadyMessage {
  type: 'ready';
}

/**
 * The execution hit a limit (tool calls, output) and was told to stop. Sent at once, from inside the guest's
 * call into the worker: a guest that catches the error in a loop can keep the worker's thread from ever
 * answering, so the pool ends it shortly after this unless `done` comes first.
 */
export interface LimitMessage {
  type: 'limit';
  runId: number;
  error: SandboxErrorInfo;
}

export type FromWorkerMessage = CallMessage | LogMessage | DoneMessage | ReadyMessage | LimitMessage;

/** Code wrapped for evaluation is reported under this file name in guest stack traces. */
export const USER_CODE_FILENAME = 'code.js';
