import { pino, type Logger as PinoLogger } from 'pino';

/**
 * The gateway's logger. In stdio serving mode stdout is the protocol channel, so logs never go there
 * unless `--log` asked for them (and then the gateway is not serving on stdio).
 */
export type Logger = PinoLogger;
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

export interface LoggerOptions {
  level?: LogLevel;
  /** 'stdout-human' is the seeds' `--log` format; 'stderr-human' the default for now; 'json' one object a line. */
  format?: 'human' | 'json';
  destination?: 'stdout' | 'stderr';
}

const LEVEL_NAMES: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARNING',
  50: 'ERROR',
  60: 'CRITICAL',
};

/** `2025-02-05 10:30:45,123 [INFO] Server 'playwright' started`, the seeds' stdout format. */
export function formatHumanLine(record: { time: number; level: number; msg?: string; server?: string }): string {
  const date = new Date(record.time);
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  const stamp =
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())},${pad(date.getMilliseconds(), 3)}`;
  const tag = record.server === undefined ? '' : `[${record.server}] `;
  return `${stamp} [${LEVEL_NAMES[record.level] ?? 'INFO'}] ${tag}${record.msg ?? ''}\n`;
}

function humanStream(fd: 1 | 2): { write(line: string): void } {
  const out = fd === 1 ? process.stdout : process.stderr;
  return {
    write(line: string) {
      try {
        const record = JSON.parse(line) as Parameters<typeof formatHumanLine>[0] & { err?: { message?: string } };
        const suffix = record.err?.message ? `: ${record.err.message}` : '';
        out.write(formatHumanLine({ ...record, msg: `${record.msg ?? ''}${suffix}` }));
      } catch {
        out.write(line);
      }
    },
  };
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  const fd = options.destination === 'stdout' ? 1 : 2;
  if (options.format === 'json') {
    return pino({ level, base: undefined }, pino.destination({ fd, sync: true }));
  }
  return pino({ level, base: undefined }, humanStream(fd));
}

/** A logger that drops everything, for embedding and tests that do not read logs. */
export function createSilentLogger(): Logger {
  return pino({ level: 'silent' });
}
