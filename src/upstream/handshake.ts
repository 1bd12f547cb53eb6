import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  type ClientCapabilities,
  LATEST_PROTOCOL_VERSION,
  type ServerCapabilities,
  SUPPORTED_PROTOCOL_VERSIONS,
} from '@modelcontextprotocol/sdk/types.js';

import { GatewayError } from '../errors.js';
import { GATEWAY_NAME, GATEWAY_VERSION } from '../version.js';
import type { JsonRpcPeer } from './json-rpc-peer.js';

/** What a server said about itself when the gateway connected. */
export interface Handshake {
  protocolVersion: string;
  capabilities: ServerCapabilities;
  serverInfo?: { name: string; version: string };
  instructions?: string;
}

/**
 * Opens an MCP session with a server: `initialize` with the capabilities this instance speaks for, a check
 * of the version the server chose, then `notifications/initialized`.
 */
export async function initializeUpstream(
  peer: JsonRpcPeer<unknown>,
  transport: Transport,
  options: { server: string; clientCapabilities: ClientCapabilities; timeoutMs: number },
): Promise<Handshake> {
  const init = await peer.request(
    'initialize',
    {
      protocolVersion: LATEST_PROTOCOL_VERSION,
      capabilities: options.clientCapabilities,
      clientInfo: { name: GATEWAY_NAME, version: GATEWAY_VERSION },
    },
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
    protocolVersion: version,
    capabilities: (init.capabilities ?? {}) as ServerCapabilities,
    ...(init.serverInfo ? { serverInfo: init.serverInfo as { name: string; version: string } } : {}),
    ...(typeof init.instructions === 'string' ? { instructions: init.instructions } : {}),
  };
}
