import { describeInstanceKey } from '../relay/owner.js';
import type { LogRecord } from './log-format.js';

/** One line of the tail: when, how severe, which server (if any), and the message, secrets masked. */
export interface TailEntry {
  time: number;
  level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';
  server?: string;
  msg: string;
}

const LEVELS: Record<number, TailEntry['level']> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};
const DEFAULT_TAIL_LINES = 300;
const MAX_TAIL_MESSAGE_CHARS = 2_000;
/** Session ids are bearer secrets; debug lines name them in full. */
const SESSION_ID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi;

/**
 * The last lines of the log, for the console: filled by the logger (`createLogger({ tail })`) after its
 * secret masking, with session ids replaced by the short digest the rest of the gateway shows for them.
 *
 * @example
 * const tail = new LogTail();
 * const log = createLogger({ tail });
 * tail.subscribe((entry) => console.log(entry.msg));
 */
export class LogTail {
  private readonly lines: TailEntry[] = [];
  private readonly listeners = new Set<(entry: TailEntry) => void>();

  constructor(private readonly capacity = DEFAULT_TAIL_LINES) {}

  push(record: LogRecord): void {
    const msg = String(record.msg ?? '').replace(SESSION_ID, (id) => describeInstanceKey(`session:${id}`));
    const entry: TailEntry = {
      time: typeof record.time === 'number' ? record.time : Date.parse(String(record.time)) || Date.now(),
      level: levelOf(record.level),
      msg: msg.length > MAX_TAIL_MESSAGE_CHARS ? `${msg.slice(0, MAX_TAIL_MESSAGE_CHARS)}…` : msg,
      ...(typeof record.server === 'string' ? { server: record.server } : {}),
    };
    this.lines.push(entry);
    if (this.lines.length > this.capacity) this.lines.splice(0, this.lines.length - this.capacity);
    for (const listener of this.listeners) listener(entry);
  }

  entries(): TailEntry[] {
    return [...this.lines];
  }

  /** Calls `listener` with every new line; returns the unsubscribe function. */
  subscribe(listener: (entry: TailEntry) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** pino's numeric level, or its label (the JSON format writes labels). */
function levelOf(level: unknown): TailEntry['level'] {
  if (typeof level === 'string' && (Object.values(LEVELS) as string[]).includes(level))
    return level as TailEntry['level'];
  return LEVELS[Number(level)] ?? 'info';
}
