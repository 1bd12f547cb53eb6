/**
 * DNS-rebinding protection. A gateway bound to loopback answers only requests whose Host names loopback;
 * any request carrying an Origin must come from loopback, from the host it addressed, or from a configured
 * origin. Requests without Origin (curl, SDK clients, other processes) are not browsers and pass.
 */
export interface GuardOptions {
  /** The address the listener is bound to. */
  bindHost: string;
  /** Extra Host names accepted (e.g. the machine's DNS name when bound to 0.0.0.0 behind a proxy). */
  allowedHosts?: string[];
  /** Extra origins accepted, e.g. `https://app.example.com`. */
  allowedOrigins?: string[];
}

export type GuardVerdict = { ok: true } | { ok: false; status: 403; message: string };

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

export function isLoopback(host: string): boolean {
  return LOOPBACK_NAMES.has(host.toLowerCase()) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** The host name of a Host header value, without port; IPv6 literals keep their brackets. */
export function hostnameOf(hostHeader: string): string {
  const value = hostHeader.trim().toLowerCase();
  if (value.startsWith('[')) return value.slice(0, value.indexOf(']') + 1);
  const colon = value.lastIndexOf(':');
  return colon === -1 ? value : value.slice(0, colon);
}

export function checkRequest(headers: { host?: string; origin?: string }, options: GuardOptions): GuardVerdict {
  return new RequestGuard(options).check(headers.host, headers.origin);
}

const ALLOWED: GuardVerdict = { ok: true };

/**
 * `checkRequest` with its options read once: the gateway makes one per config rather than one per request.
 *
 * @example new RequestGuard({ bindHost: '127.0.0.1' }).check('localhost:12010', undefined) // { ok: true }
 */
export class RequestGuard {
  private readonly extraHosts: ReadonlySet<string>;
  private readonly hostChecked: boolean;
  /** The last Host header that passed: a client sends the same one with every request. */
  private allowedHost?: string;

  constructor(private readonly options: GuardOptions) {
    this.extraHosts = new Set((options.allowedHosts ?? []).map((host) => host.toLowerCase()));
    this.hostChecked = isLoopback(options.bindHost) || this.extraHosts.size > 0;
  }

  check(hostHeader: string | undefined, origin: string | undefined): GuardVerdict {
    // A request without Host never matches the memory (which starts empty): it is checked, and refused.
    if (this.hostChecked && (hostHeader === undefined || hostHeader !== this.allowedHost)) {
      const host = hostHeader === undefined ? undefined : hostnameOf(hostHeader);
      if (host === undefined || !(isLoopback(host) || this.extraHosts.has(host))) {
        return { ok: false, status: 403, message: `Forbidden: Host "${hostHeader ?? ''}" is not allowed` };
      }
      this.allowedHost = hostHeader;
    }
    if (origin === undefined || origin === '') return ALLOWED;
    if (originHostOf(origin) === undefined) {
      return { ok: false, status: 403, message: `Forbidden: Origin "${origin}" is not a valid origin` };
    }
    if (isOriginAllowedByDefault(origin, hostHeader, this.options)) return ALLOWED;
    return { ok: false, status: 403, message: `Forbidden: Origin "${origin}" is not allowed` };
  }
}

/**
 * The gateway's own origin rule: loopback, the host the request addressed, an allowed host, or a listed origin.
 *
 * @example isOriginAllowedByDefault('http://localhost:6274', 'localhost:12010', { bindHost: '127.0.0.1' }) // true
 */
export function isOriginAllowedByDefault(
  origin: string,
  hostHeader: string | undefined,
  options: Pick<GuardOptions, 'allowedHosts' | 'allowedOrigins'>,
): boolean {
  if (isOriginListed(origin, options.allowedOrigins ?? [])) return true;
  const originHost = originHostOf(origin);
  if (originHost === undefined) return false;
  const host = hostHeader === undefined ? undefined : hostnameOf(hostHeader);
  const extraHosts = (options.allowedHosts ?? []).map((name) => name.toLowerCase());
  return isLoopback(originHost) || originHost === host || extraHosts.includes(originHost);
}

/**
 * Whether an origin is in a list of `allowed_origins`: entries with a scheme are whole origins
 * (`https://app.example.com`), entries without are host names (`localhost`, any scheme and port).
 *
 * @example isOriginListed('http://localhost:3000', ['localhost']) // true
 */
export function isOriginListed(origin: string, entries: readonly string[]): boolean {
  const normalized = origin.toLowerCase().replace(/\/+$/, '');
  const originHost = originHostOf(origin);
  return entries.some((entry) => {
    const wanted = entry.toLowerCase().replace(/\/+$/, '');
    return wanted.includes('://') ? wanted === normalized : originHost !== undefined && wanted === originHost;
  });
}

function originHostOf(origin: string): string | undefined {
  try {
    return hostnameOf(new URL(origin).host);
  } catch {
    return undefined;
  }
}
