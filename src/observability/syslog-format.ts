export const SYSLOG_FACILITIES = {
  kern: 0,
  user: 1,
  mail: 2,
  daemon: 3,
  auth: 4,
  syslog: 5,
  lpr: 6,
  news: 7,
  uucp: 8,
  cron: 9,
  authpriv: 10,
  ftp: 11,
  local0: 16,
  local1: 17,
  local2: 18,
  local3: 19,
  local4: 20,
  local5: 21,
  local6: 22,
  local7: 23,
} as const;

export type SyslogFacility = keyof typeof SYSLOG_FACILITIES;

/** `rfc5424` for the network; `rfc3164` is what syslog(3) writes to /dev/log, and what local daemons parse. */
export type SyslogFormat = 'rfc5424' | 'rfc3164';

export interface SyslogHeader {
  facility: number;
  severity: number;
  time: number;
  hostname: string;
  appName: string;
  pid: number;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Syslog severity of a pino level: trace/debug → debug(7), info → info(6), warn → warning(4), … */
export function severityOf(level: number): number {
  if (level >= 60) return 2; // crit
  if (level >= 50) return 3; // err
  if (level >= 40) return 4; // warning
  if (level >= 30) return 6; // info
  return 7; // debug
}

export function facilityCode(facility: SyslogFacility | number | undefined, fallback: SyslogFacility): number {
  if (typeof facility === 'number') {
    if (!Number.isInteger(facility) || facility < 0 || facility > 23) {
      throw new RangeError(`syslog facility must be 0..23, got ${facility}`);
    }
    return facility;
  }
  const code = SYSLOG_FACILITIES[facility ?? fallback] as number | undefined;
  if (code === undefined) throw new RangeError(`unknown syslog facility '${String(facility)}'`);
  return code;
}

/** `<30>1 2025-02-05T10:30:45.123Z host mcproxy 12345 - - [INFO] Server 'playwright' started` */
export function formatRfc5424(header: SyslogHeader, message: string): string {
  const pri = header.facility * 8 + header.severity;
  const stamp = new Date(header.time).toISOString();
  const host = headerField(header.hostname, 255);
  const app = headerField(header.appName, 48);
  return `<${pri}>1 ${stamp} ${host} ${app} ${header.pid} - - ${message}`;
}

/** `<30>Feb  5 10:30:45 mcproxy[12345]: [INFO] Server 'playwright' started`, as glibc's syslog(3) writes it. */
export function formatRfc3164Local(header: SyslogHeader, message: string): string {
  const pri = header.facility * 8 + header.severity;
  const date = new Date(header.time);
  const pad = (n: number) => String(n).padStart(2, '0');
  const stamp =
    `${MONTHS[date.getMonth()]} ${String(date.getDate()).padStart(2, ' ')} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
  return `<${pri}>${stamp} ${headerField(header.appName, 32)}[${header.pid}]: ${message}`;
}

/** A header field is printable US-ASCII without spaces (RFC 5424 §6); NILVALUE when empty. */
function headerField(value: string, maxLength: number): string {
  const cleaned = value.replace(/[^\x21-\x7e]/g, '_').slice(0, maxLength);
  return cleaned === '' ? '-' : cleaned;
}
