import os from 'node:os';

import { DEFAULT_MAX_MESSAGE_CHARS, type LogRecord, renderMessage } from './log-format.js';
import {
  facilityCode,
  formatRfc3164Local,
  formatRfc5424,
  severityOf,
  type SyslogFacility,
  type SyslogFormat,
} from './syslog-format.js';
import {
  connectTcp,
  connectUdp,
  connectUnix,
  type DeliveryErrorHandler,
  type SyslogConnection,
} from './syslog-transport.js';

export const DEFAULT_SYSLOG_PATH = '/dev/log';
export const DEFAULT_SYSLOG_PORT = 514;
export const DEFAULT_SYSLOG_APP_NAME = 'mcproxy';
/** rsyslog's default maximum message size; longer messages are cut. */
export const DEFAULT_SYSLOG_MAX_MESSAGE_BYTES = 8192;

export interface SyslogOptions {
  /** The local syslog socket (default `/dev/log`); used when no `address` is given. */
  path?: string;
  /** A remote or local daemon: `udp://host:port`, `tcp://host:port` (port 514 by default) or `unix:///path`. */
  address?: string;
  /** APP-NAME, the `mcproxy` of `mcproxy[PID]:` (default `mcproxy`). */
  appName?: string;
  /** Facility name or code (default `daemon`). */
  facility?: SyslogFacility | number;
  /** Wire format: `rfc3164` (syslog(3)'s) on the local socket and `rfc5424` on the network by default. */
  format?: SyslogFormat;
  /** HOSTNAME of RFC 5424 messages (default `os.hostname()`). */
  hostname?: string;
  maxMessageBytes?: number;
}

export interface SyslogTarget {
  protocol: 'udp' | 'tcp' | 'unix';
  host: string;
  port: number;
  path: string;
}

export interface SyslogWriter {
  /** Where messages go, e.g. `unix:/dev/log` or `udp://127.0.0.1:514`. */
  readonly target: string;
  write(record: LogRecord, fallback: string): void;
  close(): Promise<void>;
}

/**
 * Parses `udp://host:port`, `tcp://host:port`, `unix:///path` (or a bare absolute path) into a target.
 *
 * @example
 * parseSyslogAddress('tcp://logs.internal:6514'); // { protocol: 'tcp', host: 'logs.internal', port: 6514, path: '' }
 */
export function parseSyslogAddress(address: string): SyslogTarget {
  if (address.startsWith('/')) return { protocol: 'unix', host: '', port: 0, path: address };
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    throw new TypeError(
      `invalid syslog address '${address}': expected udp://host:port, tcp://host:port or unix:///path`,
    );
  }
  const protocol = url.protocol.slice(0, -1);
  if (protocol === 'unix') {
    if (!url.pathname || url.pathname === '/') throw new TypeError(`syslog address '${address}' has no socket path`);
    return { protocol: 'unix', host: '', port: 0, path: decodeURIComponent(url.pathname) };
  }
  if (protocol !== 'udp' && protocol !== 'tcp') {
    throw new TypeError(`unsupported syslog protocol '${protocol}' in '${address}': use udp, tcp or unix`);
  }
  if (!url.hostname) throw new TypeError(`syslog address '${address}' has no host`);
  const port = url.port === '' ? DEFAULT_SYSLOG_PORT : Number(url.port);
  // URL keeps the brackets of an IPv6 literal; sockets want it bare.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return { protocol, host, port, path: '' };
}

/** A writer that renders records as syslog messages and delivers them; failures go to `onError`. */
export function createSyslogWriter(
  options: SyslogOptions,
  onError: DeliveryErrorHandler,
  maxMessageChars = DEFAULT_MAX_MESSAGE_CHARS,
): SyslogWriter {
  const target: SyslogTarget = options.address
    ? parseSyslogAddress(options.address)
    : { protocol: 'unix', host: '', port: 0, path: options.path ?? DEFAULT_SYSLOG_PATH };
  const connection = connect(target, onError);
  const format: SyslogFormat = options.format ?? (target.protocol === 'unix' ? 'rfc3164' : 'rfc5424');
  const facility = facilityCode(options.facility, 'daemon');
  const hostname = options.hostname ?? os.hostname();
  const appName = options.appName ?? DEFAULT_SYSLOG_APP_NAME;
  const maxBytes = options.maxMessageBytes ?? DEFAULT_SYSLOG_MAX_MESSAGE_BYTES;
  const render = format === 'rfc5424' ? formatRfc5424 : formatRfc3164Local;
  return {
    target: connection.target,
    write(record, fallback) {
      const header = {
        facility,
        severity: severityOf(record.level),
        time: record.time,
        hostname,
        appName,
        pid: process.pid,
      };
      connection.send(truncateBytes(render(header, renderMessage(record, maxMessageChars)), maxBytes), fallback);
    },
    close: () => connection.close(),
  };
}

function connect(target: SyslogTarget, onError: DeliveryErrorHandler): SyslogConnection {
  if (target.protocol === 'udp') return connectUdp(target.host, target.port, onError);
  if (target.protocol === 'tcp') return connectTcp(target.host, target.port, onError);
  return connectUnix(target.path, onError);
}

function truncateBytes(text: string, maxBytes: number): Buffer {
  const buffer = Buffer.from(text);
  if (buffer.length <= maxBytes) return buffer;
  // Cut, then drop a UTF-8 sequence split at the end.
  let end = maxBytes;
  while (end > 0 && (buffer[end]! & 0xc0) === 0x80) end--;
  return buffer.subarray(0, end);
}
