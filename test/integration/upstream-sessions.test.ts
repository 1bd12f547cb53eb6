// Issue 10: every message from a server reaches the client it belongs to. Ten SDK clients at once, over /mcp
// and over /sse, each make server-everything ask them for sampling and elicitation, with the server shared
// over stdio, one instance per session over stdio, and over Streamable HTTP (per session by default, and
// shared, where the response stream a request arrives on tells its owner). Every request is checked against
// the client that received it: the sampling prompt names its owner, and each answer names the client that
// gave it, so a request delivered to the wrong client shows on both sides.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema, ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type EverythingHttp, freePort, startEverythingHttp } from '../helpers/everything-http.js';
import { type GatewayProcess, startGatewayProcess } from '../helpers/gateway-process.js';
import { EVERYTHING_MAIN } from '../helpers/real-servers.js';
import { createTempDir, type TempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait-for.js';

const CLIENTS = 10;
const CALLS_PER_TOOL = 10;
/** The documented fail-closed refusal of a shared server whose request has no single owner. */
const REFUSAL = /refused: server "everything" has calls of \d+ client sessions in flight/;

interface RunStats {
  /** Requests a client received that named another client as their owner. */
  misrouted: number;
  /** Results that carried another client's answer. */
  foreignAnswers: number;
  /** Calls that came back with the refusal. */
  refusals: number;
  /** Any other failure, with its text. */
  errors: string[];
  ok: number;
  requestsSeen: number;
}

type Kind = 'mcp' | 'sse';

/** `together`: all clients call at once; otherwise one client's call at a time. */
async function runClients(gatewayUrl: string, kind: Kind, together = true): Promise<RunStats> {
  const stats: RunStats = { misrouted: 0, foreignAnswers: 0, refusals: 0, errors: [], ok: 0, requestsSeen: 0 };
  let turn = Promise.resolve();
  const inTurn = <T>(call: () => Promise<T>): Promise<T> => {
    if (together) return call();
    const result = turn.then(call);
    turn = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  };
  const names = Array.from({ length: CLIENTS }, (_, i) => `client-${kind}-${i}`);
  const clients = await Promise.all(
    names.map(async (name) => {
      const client = new Client({ name, version: '1.0.0' }, { capabilities: { sampling: {}, elicitation: {} } });
      client.setRequestHandler(CreateMessageRequestSchema, (request) => {
        stats.requestsSeen++;
        const text = JSON.stringify(request.params.messages);
        const owner = /owner=(client-[a-z]+-\d+)/.exec(text)?.[1];
        if (owner !== name) stats.misrouted++;
        return { model: 'test', role: 'assistant', content: { type: 'text', text: `answered-by=${name}` } };
      });
      client.setRequestHandler(ElicitRequestSchema, () => {
        stats.requestsSeen++;
        return { action: 'accept', content: { name: `answered-by=${name}` } };
      });
      const url = new URL(`${gatewayUrl}/${kind}`);
      await client.connect(kind === 'mcp' ? new StreamableHTTPClientTransport(url) : new SSEClientTransport(url));
      return { name, client };
    }),
  );
  try {
    await Promise.all(
      clients.map(async ({ name, client }) => {
        for (let i = 0; i < CALLS_PER_TOOL; i++) {
          for (const tool of ['trigger-sampling-request', 'trigger-elicitation-request']) {
            const args = tool === 'trigger-sampling-request' ? { prompt: `owner=${name} n=${i}`, maxTokens: 5 } : {};
            try {
              const result = await inTurn(() => client.callTool({ name: `everything__${tool}`, arguments: args }));
              const text = (result.content as { text?: string }[]).map((item) => item.text ?? '').join('\n');
              if (result.isError) {
                if (REFUSAL.test(text)) stats.refusals++;
                else stats.errors.push(text.slice(0, 300));
                continue;
              }
              const answers = [...text.matchAll(/answered-by=(client-[a-z]+-\d+)/g)].map((match) => match[1]);
              if (answers.length === 0) stats.errors.push(`no answer in ${text.slice(0, 200)}`);
              else if (answers.some((answer) => answer !== name)) stats.foreignAnswers++;
              else stats.ok++;
            } catch (error) {
              const message = (error as Error).message;
              if (REFUSAL.test(message)) stats.refusals++;
              else stats.errors.push(message);
            }
          }
        }
      }),
    );
  } finally {
    await Promise.all(clients.map(({ client }) => client.close()));
  }
  return stats;
}

let dir: TempDir;
let remote: EverythingHttp;

beforeAll(async () => {
  dir = await createTempDir();
  remote = await startEverythingHttp(await freePort());
});

afterAll(async () => {
  await remote?.stop();
  await dir?.[Symbol.asyncDispose]();
});

const stdio = { command: process.execPath, args: [EVERYTHING_MAIN, 'stdio'] };
const setups: { name: string; server: () => object; exact: boolean }[] = [
  { name: '(a) shared over stdio', server: () => ({ ...stdio, scope: 'shared' }), exact: false },
  { name: '(b) scope "session" over stdio', server: () => ({ ...stdio, scope: 'session' }), exact: true },
  { name: '(c) Streamable HTTP, one upstream session per client', server: () => ({ url: remote.url }), exact: true },
  {
    name: '(d) Streamable HTTP, shared: routed by the stream it arrived on',
    server: () => ({ url: remote.url, scope: 'shared' }),
    exact: true,
  },
];

describe.each(setups)('server-to-client requests with server-everything $name', (setup) => {
  let gateway: GatewayProcess;
  beforeAll(async () => {
    const configPath = await dir.write(`mcp-${setups.indexOf(setup)}.json`, {
      servers: { everything: setup.server() },
    });
    gateway = await startGatewayProcess({ configPath });
    await waitFor(() => gateway.stdout.some((line) => line.includes('Gateway ready')), { message: 'start-up' });
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  it.each(['mcp', 'sse'] as const)(
    'over /%s: 10 clients, every request reaches its owner and every answer comes from it',
    async (kind) => {
      const stats = await runClients(gateway.url, kind);
      console.log(`${setup.name} over /${kind}: ${JSON.stringify({ ...stats, errors: stats.errors.length })}`);
      expect(stats.misrouted).toBe(0);
      expect(stats.foreignAnswers).toBe(0);
      expect(stats.errors).toEqual([]);
      expect(stats.ok + stats.refusals).toBe(CLIENTS * CALLS_PER_TOOL * 2);
      if (setup.exact) expect(stats.refusals).toBe(0);
      // Refused requests never reach a client; every other one reached exactly one.
      expect(stats.requestsSeen).toBe(stats.ok);
      if (!setup.exact && stats.refusals > 0) {
        expect(gateway.stdout.some((line) => line.includes('give the server scope "session"'))).toBe(true);
      }
    },
    120_000,
  );

  // A shared server routes exactly whenever one call is in flight: only real ambiguity is refused.
  if (!setup.exact) {
    it('one call at a time: each request has one owner, so none is refused', async () => {
      const stats = await runClients(gateway.url, 'mcp', false);
      expect(stats).toMatchObject({ misrouted: 0, foreignAnswers: 0, refusals: 0, errors: [] });
      expect(stats.ok).toBe(CLIENTS * CALLS_PER_TOOL * 2);
    });
  }
});
