import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';

/**
 * Whose address a request comes from. Behind a reverse proxy every client arrives from the proxy's address, so
 * clients without a credential would share one rate budget and one session share. With `trusted_proxies` the
 * gateway reads X-Forwarded-For, but only the part its own proxies wrote: it walks the list from the right (the
 * hop nearest to the gateway) past every trusted address, and the first address it does not trust is the client.
 * Anything a client wrote itself sits to the left of that and is never believed; from a peer that is not a
 * trusted proxy the header is ignored altogether.
 *
 * @example
 * const proxies = trustedProxies(['10.0.0.0/8']);
 * clientAddress(req, proxies); // '203.0.113.7' for X-Forwarded-For "203.0.113.7" sent by 10.0.0.5
 */
export function clientAddress(req: IncomingMessage, proxies: TrustedProxies | undefined): string | undefined {
  const peer = req.socket.remoteAddress;
  if (!proxies || peer === undefined || !proxies.trusts(peer)) return peer;
  const header = req.headers['x-forwarded-for'];
  if (header === undefined) return peer;
  // Several headers are one list, in order (RFC 7230 §3.2.2).
  const hops = (Array.isArray(header) ? header.join(',') : header).split(',').map((hop) => hop.trim());
  let client = peer;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = plainAddress(hops[i]!);
    // A hop that is no address (garbage, "unknown", an obfuscated identifier) ends the walk: what is left of it
    // cannot be trusted either.
    if (hop === undefined) return client;
    client = hop;
    if (!proxies.trusts(hop)) return hop;
  }
  return client;
}

/** The trusted proxies of a config, as a matcher; undefined when there are none. Made once per config. */
export function trustedProxies(entries: readonly string[] | undefined): TrustedProxies | undefined {
  if (!entries?.length) return undefined;
  const cached = made.get(entries);
  if (cached) return cached;
  const proxies = new TrustedProxies(entries);
  made.set(entries, proxies);
  return proxies;
}

const made = new WeakMap<readonly string[], TrustedProxies>();

export class TrustedProxies {
  private readonly list = new BlockList();

  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const range = parseRange(entry);
      if (!range) throw new Error(`trusted_proxies: "${entry}" is not an IP address or a CIDR range`);
      this.list.addSubnet(range.address, range.prefix, range.family);
    }
  }

  trusts(address: string): boolean {
    const plain = plainAddress(address);
    if (plain === undefined) return false;
    const family = isIP(plain) === 6 ? 'ipv6' : 'ipv4';
    if (this.list.check(plain, family)) return true;
    // An IPv4 client of a dual-stack listener arrives as ::ffff:a.b.c.d; an IPv4 range should match it.
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(plain);
    return mapped !== null && this.list.check(mapped[1]!, 'ipv4');
  }
}

/** True for an IP address or a CIDR range (`10.0.0.0/8`, `fd00::/8`): the config's check of each entry. */
export function isAddressOrRange(entry: string): boolean {
  return parseRange(entry) !== undefined;
}

function parseRange(entry: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | undefined {
  const [address = '', prefixText, ...rest] = entry.trim().split('/');
  const version = isIP(address);
  if (version === 0 || rest.length > 0) return undefined;
  const max = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!(prefix >= 0 && prefix <= max)) return undefined;
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/** An X-Forwarded-For hop as a bare address: `[::1]:443` and `192.0.2.1:80` lose their ports; else undefined. */
function plainAddress(hop: string): string | undefined {
  if (isIP(hop)) return hop;
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(hop);
  if (bracketed && isIP(bracketed[1]!) === 6) return bracketed[1];
  const withPort = /^(\d+\.\d+\.\d+\.\d+):\d+$/.exec(hop);
  if (withPort && isIP(withPort[1]!) === 4) return withPort[1];
  return undefined;
}
