import type { ClientCapabilities } from '@modelcontextprotocol/sdk/types.js';

/**
 * The client capabilities a shared (or credential) instance declares: everything the gateway can route to
 * some client. Each request is still checked against the capabilities of the client it is routed to.
 */
export const ROUTABLE_CAPABILITIES: ClientCapabilities = {
  sampling: { tools: {} },
  elicitation: { form: {}, url: {} },
  roots: { listChanged: true },
};

/** What an instance may declare for one client: its own sampling, elicitation and roots, nothing else. */
export function ownCapabilities(client: ClientCapabilities): ClientCapabilities {
  return {
    ...(client.sampling ? { sampling: client.sampling } : {}),
    ...(client.elicitation ? { elicitation: client.elicitation } : {}),
    ...(client.roots ? { roots: client.roots } : {}),
  };
}
