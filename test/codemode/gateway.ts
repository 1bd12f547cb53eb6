import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

import { parseConfigText } from '../../src/config/load.js';
import { Gateway } from '../../src/gateway.js';
import { createToolSurfaces } from '../../src/modes/tool-surfaces.js';
import { createSilentLogger } from '../../src/observability/log.js';
import { GatewayHttpServer } from '../../src/serve/http-server.js';

/**
 * A real gateway in this process (real servers, a real HTTP listener on 127.0.0.1, an OS-chosen port), for tests
 * that must watch the gateway's own event loop, which a child process would hide.
 */
export interface InProcessGateway {
  url: string;
  gateway: Gateway;
  connect(name?: string): Promise<Client>;
  close(): Promise<void>;
}

export async function startInProcessGateway(config: object): Promise<InProcessGateway> {
  const surfaces = createToolSurfaces();
  const parsed = parseConfigText(JSON.stringify(config), { format: 'json', env: {} });
  await surfaces.prepare(parsed);
  const gateway = new Gateway({
    config: parsed,
    logger: createSilentLogger(),
    toolSurfaceFactory: surfaces.factory,
  });
  await gateway.start();
  const http = new GatewayHttpServer(gateway, { host: '127.0.0.1', port: 0 });
  const base = await http.listen();
  const clients: Client[] = [];
  return {
    url: `${base.replace(/\/$/, '')}/mcp`,
    gateway,
    async connect(name = 'codemode-test') {
      const client = new Client({ name, version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(`${base.replace(/\/$/, '')}/mcp`)));
      clients.push(client);
      return client;
    },
    async close() {
      await Promise.allSettled(clients.map((client) => client.close()));
      await http.close();
      await gateway.close();
      await surfaces.close();
    },
  };
}
