// Every message has an owner, against a server that misbehaves (test/fixtures/servers/hostile.mjs) and clients
// that cancel: what a server sends towards clients reaches the client whose call it belongs to, or nobody.

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type GatewayProcess, startGatewayProcess } from '../helpers/gateway-process.js';
import { fixturePath } from '../helpers/paths.js';
import { createTempDir, type TempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait-for.js';

const HOSTILE = fixturePath('hostile');

interface SamplingClient {
  client: Client;
  transport: StreamableHTTPClientTransport;
  /** The prompts of the sampling requests this client received. */
  prompts: string[];
}

let dir: TempDir;
let gateway: GatewayProcess;
const opened: Client[] = [];

/** `answers`: false for a client that never answers a sampling request (a human who walked away). */
async function connect(name: string, answers = true): Promise<SamplingClient> {
  const client = new Client({ name, version: '1.0.0' }, { capabilities: { sampling: {} } });
  const prompts: string[] = [];
  client.setRequestHandler(CreateMessageRequestSchema, (request) => {
    prompts.push(JSON.stringify(request.params.messages));
    if (!answers) return new Promise<never>(() => {});
    return { model: 'test', role: 'assistant', content: { type: 'text', text: `answered-by=${name}` } };
  });
  const transport = new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp`));
  await client.connect(transport);
  opened.push(client);
  return { client, transport, prompts };
}

/** What the server says became of its sampling requests of `tag`, asked by another client. */
async function outcomesOf(asker: SamplingClient, tag: string): Promise<string[]> {
  const result = await asker.client.callTool({ name: 'hostile__outcomes', arguments: {} });
  return textOf(result)
    .split('\n')
    .filter((line) => line.startsWith(`${tag}: `));
}

function textOf(result: Record<string, unknown>): string {
  return ((result.content ?? []) as { text?: string }[]).map((item) => item.text ?? '').join('\n');
}

beforeAll(async () => {
  dir = await createTempDir();
  const configPath = await dir.write('hostile.json', {
    servers: { hostile: { command: process.execPath, args: [HOSTILE], scope: 'shared' } },
  });
  gateway = await startGatewayProcess({ configPath });
  await waitFor(() => gateway.stdout.some((line) => line.includes('Gateway ready')), { message: 'start-up' });
});

afterAll(async () => {
  await Promise.all(opened.map((client) => client.close()));
  await gateway?.stop();
  await dir?.[Symbol.asyncDispose]();
});

describe('a shared stdio server after a call was cancelled', () => {
  it("never hands the cancelled call's sampling request to the session whose call is in flight", async () => {
    const alice = await connect('alice');
    const bob = await connect('bob');
    const cancel = new AbortController();
    // Alice cancels her call as soon as the server has it; the server asks for sampling for it before it reads
    // the cancellation, while Bob's call is the only one in flight.
    const holding = alice.client
      .callTool({ name: 'hostile__busy_hold', arguments: { tag: 'alice' } }, undefined, {
        signal: cancel.signal,
        onprogress: () => cancel.abort('changed my mind'),
      })
      .catch((error: unknown) => error as Error);
    await bob.client.callTool({ name: 'hostile__outcomes', arguments: {} });
    expect(await holding).toBeInstanceOf(Error);
    const outcomes = await waitFor(async () => {
      const lines = await outcomesOf(bob, 'alice');
      return lines.length > 0 ? lines : undefined;
    });
    expect(bob.prompts).toEqual([]);
    expect(alice.prompts).toEqual([]);
    expect(outcomes).toEqual([expect.stringMatching(/^alice: sampling failed: .*refused/)]);
  });

  it('routes exactly again once the server has read the cancellation', async () => {
    const carol = await connect('carol');
    const result = await carol.client.callTool({ name: 'hostile__sample', arguments: { tag: 'carol' } });
    expect(textOf(result)).toBe('sampled: answered-by=carol');
    expect(carol.prompts).toEqual([JSON.stringify([{ role: 'user', content: { type: 'text', text: 'owner=carol' } }])]);
  });
});

describe('a client that goes away while the server waits for its sampling answer', () => {
  it('ends the session: the server gets an error answer at once, not after the 10-minute wait', async () => {
    const dave = await connect('dave', false);
    const erin = await connect('erin');
    const call = dave.client
      .callTool({ name: 'hostile__sample', arguments: { tag: 'dave' } })
      .catch((error: unknown) => error as Error);
    await waitFor(() => dave.prompts.length === 1, { message: "dave's sampling request" });
    await dave.transport.terminateSession();
    await dave.client.close();
    expect(await call).toBeInstanceOf(Error);
    const outcomes = await waitFor(async () => {
      const lines = await outcomesOf(erin, 'dave');
      return lines.length > 0 ? lines : undefined;
    });
    expect(outcomes).toEqual([expect.stringMatching(/^dave: sampling failed: /)]);
  });

  it('cancels its call: the sampling request of that call is withdrawn and the server answered', async () => {
    const frank = await connect('frank', false);
    const erin = await connect('erin-2');
    const cancel = new AbortController();
    const call = frank.client
      .callTool({ name: 'hostile__sample', arguments: { tag: 'frank' } }, undefined, { signal: cancel.signal })
      .catch((error: unknown) => error as Error);
    await waitFor(() => frank.prompts.length === 1, { message: "frank's sampling request" });
    cancel.abort('no time');
    expect(await call).toBeInstanceOf(Error);
    const outcomes = await waitFor(async () => {
      const lines = await outcomesOf(erin, 'frank');
      return lines.length > 0 ? lines : undefined;
    });
    expect(outcomes).toEqual([expect.stringMatching(/^frank: sampling failed: /)]);
  });
});
