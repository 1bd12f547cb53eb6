import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  type ClientCapabilities,
  LATEST_PROTOCOL_VERSION,
  type ServerCapabilities,
  SUPPORTED_PROTOCOL_VERSIONS,
} from '@modelcontextprotocol/sdk/types.js';

import { GatewayError, UpstreamRpcError } from '../errors.js';
import { META, MODERN_VERSION, MODERN_VERSIONS, UNSUPPORTED_PROTOCOL_VERSION } from '../protocol/modern.js';
import { GATEWAY_NAME, GATEWAY_VERSION } from '../version.js';
import { HttpUpstreamTransport } from './http-transport.js';
import type { JsonRpcPeer } from './json-rpc-peer.js';

/** Which protocol era an upstream speaks: `initialize` and sessions, or stateless requests (2026-07-28). */
export type UpstreamEra = 'legacy' | 'modern';

/** What a server said about itself when the gateway connected. */
export interface Handshake {
  era: UpstreamEra;
  protocolVersion: string;
  capabilities: ServerCapabilities;
  serverInfo?: { name: string; version: string };
  instructions?: string;
}

export interface HandshakeOptions {
  server: string;
  clientCapabilities: ClientCapabilities;
  timeoutMs: number;
  /** The headers a stateless-era request mirrors from its body (tool arguments need the tool's schema). */
  mirroredHeaders?: (message: { method: string; params?: Record<string, unknown> }) => Record<string, string>;
}

const GATEWAY_INFO = { name: GATEWAY_NAME, version: GATEWAY_VERSION };

/**
 * Opens MCP with a server in whichever era it speaks. Every server on npm today is of the legacy era, so
 * `initialize` goes first and costs a legacy server nothing; a server of the 2026-07-28 era only refuses it
 * with a modern error naming its versions, and the gateway then asks `server/discover` and speaks statelessly
 * from there on (each request carrying its `_meta` envelope). A modern-only server is so never mistaken for a
 * broken one, and never restarted in a loop.
 */
export async function connectUpstream(
  peer: JsonRpcPeer<unknown>,
  transport: Transport,
  options: HandshakeOptions,
): Promise<Handshake> {
  try {
    return await initializeLegacy(peer, transport, options);
  } catch (error) {
    if (!isModernRefusal(error)) throw error;
  }
  return discoverModern(peer, transport, options);
}

async function initializeLegacy(
  peer: JsonRpcPeer<unknown>,
  transport: Transport,
  options: HandshakeOptions,
): Promise<Handshake> {
  const init = await peer.request(
    'initialize',
    { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: options.clientCapabilities, clientInfo: GATEWAY_INFO },
    { timeoutMs: options.timeoutMs, describe: `initialisation of server "${options.server}"` },
  );
  const version = String(init.protocolVersion);
  if (!SUPPORTED_PROTOCOL_VERSIONS.includes(version)) {
    throw new GatewayError(
      'UPSTREAM_SPAWN_FAILED',
      `server "${options.server}" speaks unsupported protocol ${version}`,
    );
  }
  (transport as { setProtocolVersion?: (v: string) => void }).setProtocolVersion?.(version);
  await peer.notify('notifications/initialized');
  return {
    era: 'legacy',
    protocolVersion: version,
    capabilities: (init.capabilities ?? {}) as ServerCapabilities,
    ...(init.serverInfo ? { serverInfo: init.serverInfo as { name: string; version: string } } : {}),
    ...(typeof init.instructions === 'string' ? { instructions: init.instructions } : {}),
  };
}

/** Speaks the 2026-07-28 era with a server: each request carries the envelope; `server/discover` first. */
export async function discoverModern(
  peer: JsonRpcPeer<unknown>,
  transport: Transport,
  options: HandshakeOptions,
): Promise<Handshake> {
  peer.setRequestMeta({
    [META.protocolVersion]: MODERN_VERSION,
    [META.clientCapabilities]: options.clientCapabilities,
    [META.clientInfo]: GATEWAY_INFO,
  });
  if (transport instanceof HttpUpstreamTransport) {
    transport.setProtocolVersion(MODERN_VERSION);
    transport.useModernHeaders(
      (message) =>
        options.mirroredHeaders?.(message as { method: string; params?: Record<string, unknown> }) ?? {
          'mcp-method': message.method,
        },
    );
  }
  const discovered = await peer.request(
    'server/discover',
    {},
    {
      timeoutMs: options.timeoutMs,
      describe: `server/discover of server "${options.server}"`,
    },
  );
  const versions = Array.isArray(discovered.supportedVersions) ? (discovered.supportedVersions as unknown[]) : [];
  if (!versions.includes(MODERN_VERSION)) {
    throw new GatewayError(
      'UPSTREAM_SPAWN_FAILED',
      `server "${options.server}" supports neither the legacy era nor ${MODERN_VERSION} (it offers ${versions.join(', ') || 'nothing'})`,
    );
  }
  const meta = (discovered._meta as Record<string, unknown> | undefined) ?? {};
  const serverInfo = meta[META.serverInfo] as { name: string; version: string } | undefined;
  return {
    era: 'modern',
    protocolVersion: MODERN_VERSION,
    capabilities: (discovered.capabilities ?? {}) as ServerCapabilities,
    ...(serverInfo ? { serverInfo } : {}),
    ...(typeof discovered.instructions === 'string' ? { instructions: discovered.instructions } : {}),
  };
}

/** A recognised modern error to `initialize`: the server speaks the stateless era and says so. */
function isModernRefusal(error: unknown): boolean {
  if (!(error instanceof UpstreamRpcError)) return false;
  const supported = (error.data as { supported?: unknown } | undefined)?.supported;
  const offersModern = Array.isArray(supported) && supported.some((version) => MODERN_VERSIONS.includes(version));
  return offersModern || (error.code === UNSUPPORTED_PROTOCOL_VERSION && !Array.isArray(supported));
}
