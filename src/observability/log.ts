import { type DestinationStream, type Logger as PinoLogger, pino } from 'pino';

import { DEFAULT_MAX_MESSAGE_CHARS, formatHumanLine, formatLocalStamp, type LogRecord } from './log-format.js';
import type { LogTail } from './log-tail.js';
import { createSecretMasker, DEFAULT_REDACT_PATHS, REDACTED, type SecretSource } from './redact.js';
import { createSyslogWriter, type SyslogOptions } from './syslog.js';

export { formatHumanLine } from './log-format.js';

/**
 * The gateway's logger (pino). Tag a server's lines with `log.child({ server: name })`. In stdio serving mode
 * stdout is the protocol channel, so logs never go there unless `--log` asked for them.
 */
export type Logger = PinoLogger;
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
export type LogFormat = 'human' | 'json';
export type LogDestination = 'stdout' | 'stderr' | 'syslog';

export interface LoggerOptions {
  /** Lowest level written (`info`). */
  level?: LogLevel;
  /** `human` is the classic `--log` line; `json` one object a line (`--log-format json`). Ignored for syslog. */
  format?: LogFormat;
  /** `stderr` by default; the CLI passes `syslog` unless `--log` is given. */
  destination?: LogDestination;
  /** Where syslog messages go (the local socket `/dev/log` by default). */
  syslog?: SyslogOptions;
  /** Secret strings (env values, header values, tokens) masked wherever they appear; see `createSecretMasker`. */
  redactValues?: SecretSource;
  /** pino `redact` paths whose values are censored; `DEFAULT_REDACT_PATHS` by default. */
  redactPaths?: readonly string[];
  /** Longest rendered message in the human and syslog formats (8192 chars); longer ones are cut. */
  maxMessageChars?: number;
  /** Write lines here instead of stdout/stderr (and syslog's fallback lines too): for tests and embedding. */
  stream?: { write(line: string): unknown };
  /**
   * Also show lines to a person (on stderr unless `stream` is given), in the chosen format: every line (`all`),
   * or only the notable ones (`notable`: errors, and lines logged with `{ notice: true }` such as the URL).
   */
  echo?: { mode: EchoMode; stream?: { write(line: string): unknown } };
  /** Also keep the last lines here, masked (the console's log tail). */
  tail?: LogTail;
}

export type EchoMode = 'all' | 'notable';

const SYSLOG_WARNING_INTERVAL_MS = 60_000;
const NOTABLE_LEVEL = 50;
const closers = new WeakMap<Logger, () => Promise<void>>();

/**
 * Creates the gateway's logger.
 *
 * @example
 * const log = createLogger({ level: 'info', destination: 'syslog', redactValues: () => secrets });
 * log.child({ server: 'playwright' }).info("Server 'playwright' started");
 * // syslog: mcproxy[12345]: [INFO] [playwright] Server 'playwright' started
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  const out = options.stream ?? (options.destination === 'stdout' ? process.stdout : process.stderr);
  const mask = options.redactValues ? createSecretMasker(options.redactValues) : (line: string) => line;
  const redact = { paths: [...(options.redactPaths ?? DEFAULT_REDACT_PATHS)], censor: REDACTED };
  const maxChars = options.maxMessageChars ?? DEFAULT_MAX_MESSAGE_CHARS;
  const echo = options.echo;
  const echoStream = echo?.stream ?? options.stream ?? process.stderr;
  const echoes = (record: LogRecord): boolean => echo !== undefined && (echo.mode === 'all' || isNotable(record));

  const tail = options.tail;
  if (options.destination !== 'syslog' && options.format === 'json') {
    const destination: DestinationStream = {
      write(line) {
        const masked = mask(line);
        void out.write(masked);
        if (echo && (echo.mode === 'all' || isNotable(parseRecord(masked)))) echoStream.write(masked);
        if (tail) tail.push(parseRecord(masked));
      },
    };
    return pino(
      {
        level,
        base: undefined,
        redact,
        timestamp: pino.stdTimeFunctions.isoTime,
        formatters: { level: (label) => ({ level: label }) },
      },
      destination,
    );
  }

  if (options.destination !== 'syslog') {
    return pino(
      { level, base: undefined, redact },
      recordStream(mask, (record) => {
        const line = formatHumanLine(record, maxChars);
        out.write(line);
        if (echoes(record)) echoStream.write(line);
        tail?.push(record);
      }),
    );
  }

  let lastWarning = -Infinity;
  const writer = createSyslogWriter(
    options.syslog ?? {},
    (error, fallback) => {
      const now = Date.now();
      if (now - lastWarning >= SYSLOG_WARNING_INTERVAL_MS) {
        lastWarning = now;
        out.write(`${formatLocalStamp(now)} [WARNING] syslog delivery failed (${error.message}); logging here\n`);
      }
      if (fallback !== '') out.write(fallback);
    },
    maxChars,
  );
  const logger = pino(
    { level, base: undefined, redact },
    recordStream(mask, (record) => {
      const line = formatHumanLine(record, maxChars);
      const echoed = echoes(record);
      if (echoed) echoStream.write(line);
      // A line already shown on the echo stream is not written there again when syslog is unreachable.
      writer.write(record, echoed && echoStream === out ? '' : line);
      tail?.push(record);
    }),
  );
  closers.set(logger, () => writer.close());
  return logger;
}

/** Whether a person must see this line even when the log goes elsewhere: an error, or a `notice`. */
function isNotable(record: { level?: unknown; notice?: unknown }): boolean {
  if (record.notice === true) return true;
  if (typeof record.level === 'number') return record.level >= NOTABLE_LEVEL;
  return record.level === 'error' || record.level === 'fatal';
}

/**
 * Flushes and closes what a logger made by `createLogger` holds open (the syslog connection). Call it with the
 * root logger, once, at shutdown; later lines still go to the fallback stream.
 *
 * @example
 * await closeLogger(log);
 */
export async function closeLogger(logger: Logger): Promise<void> {
  const close = closers.get(logger);
  closers.delete(logger);
  await close?.();
}

/** A logger that drops everything, for embedding and tests that do not read logs. */
export function createSilentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** Masks secrets in pino's serialised line, then hands the parsed record on. */
function recordStream(mask: (line: string) => string, emit: (record: LogRecord) => void): DestinationStream {
  return {
    write(line: string) {
      emit(parseRecord(mask(line)));
    },
  };
}

function parseRecord(line: string): LogRecord {
  try {
    return JSON.parse(line) as LogRecord;
  } catch {
    return { time: Date.now(), level: 30, msg: line.trimEnd() };
  }
}
