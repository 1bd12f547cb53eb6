/** A log record as pino serialises it (numeric level, epoch-millisecond time), before any rendering. */
export interface LogRecord {
  time: number;
  level: number;
  msg?: string;
  server?: string;
  stream?: string;
  err?: { message?: string; type?: string };
  [key: string]: unknown;
}

/** The level names of the classic `--log` format, which are Python logging's. */
const LEVEL_NAMES: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARNING',
  50: 'ERROR',
  60: 'CRITICAL',
};

/** Keys rendered in the line itself (or not at all); every other key is appended as compact JSON. */
const RENDERED_KEYS = new Set(['time', 'level', 'msg', 'server', 'stream', 'err', 'pid', 'hostname', 'notice']);

export const DEFAULT_MAX_MESSAGE_CHARS = 8192;

export function levelName(level: number): string {
  return LEVEL_NAMES[level] ?? 'INFO';
}

/**
 * The message part shared by the stdout and syslog formats: `[INFO] [playwright] stderr: text {"extra":1}`.
 * Longer messages are cut at `maxChars` with a marker, so one huge request can't flood the log.
 */
export function renderMessage(record: LogRecord, maxChars = DEFAULT_MAX_MESSAGE_CHARS): string {
  let text = record.msg ?? '';
  if (record.err?.message && !text.includes(record.err.message)) {
    text = text ? `${text}: ${record.err.message}` : record.err.message;
  }
  const extras: Record<string, unknown> = {};
  let hasExtras = false;
  for (const [key, value] of Object.entries(record)) {
    if (RENDERED_KEYS.has(key) || value === undefined) continue;
    extras[key] = value;
    hasExtras = true;
  }
  if (hasExtras) text += ` ${safeJson(extras)}`;
  const tag = record.server === undefined ? '' : `[${record.server}] `;
  const stream = record.stream === undefined ? '' : `${record.stream}: `;
  const line = `[${levelName(record.level)}] ${tag}${stream}${text}`;
  return line.length > maxChars ? `${line.slice(0, maxChars)}… (${line.length - maxChars} more chars)` : line;
}

/** `2025-02-05 10:30:45,123`, in local time, as Python's logging prints it. */
export function formatLocalStamp(time: number): string {
  const date = new Date(time);
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())},${pad(date.getMilliseconds(), 3)}`
  );
}

/**
 * One line of the classic stdout format (`--log`), newline included.
 *
 * @example
 * formatHumanLine({ time: Date.now(), level: 30, msg: "Server 'playwright' started" });
 * // "2025-02-05 10:30:45,123 [INFO] Server 'playwright' started\n"
 */
export function formatHumanLine(record: LogRecord, maxChars = DEFAULT_MAX_MESSAGE_CHARS): string {
  return `${formatLocalStamp(record.time)} ${renderMessage(record, maxChars)}\n`;
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch {
    return '[unserialisable]';
  }
}
