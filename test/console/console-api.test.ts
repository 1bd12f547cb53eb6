// The console's API under abuse: bad bodies, many consoles and calls at once, a credential that must not see a
// server, and a credential removed while its console is open.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type GatewayProcess, startGatewayProcess } from '../helpers/gateway-process.js';
import { fixturePath } from '../helpers/paths.js';
import { EVERYTHING_MAIN } from '../helpers/real-servers.js';
import { createTempDir, type TempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait-for.js';

const ADMIN = 'admin-token-0123456789abcdef';
const PUBLIC_ONLY = 'public-token-0123456789abcdef';
const MAX_STREAMS = 32;

let dir: TempDir;
let gateway: GatewayProcess;
let config: Record<string, unknown>;

function post(route: string, token: string, body: string, type = 'application/json'): Promise<Response> {
  return fetch(`${gateway.url}/console/api/${route}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': type },
    body,
  });
}

async function errorOf(response: Response): Promise<string> {
  return ((await response.json()) as { error: string }).error;
}

interface Catalog {
  tools: { name: string; server: string }[];
}

/** Reads a console's event stream until `until` says stop; returns the events seen. */
async function readEvents(response: Response, until: (events: string[]) => boolean): Promise<string[]> {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  const events: string[] = [];
  let buffer = '';
  while (!until(events)) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const event = /^event: (\S+)/m.exec(buffer.slice(0, end))?.[1];
      if (event) events.push(event);
      buffer = buffer.slice(end + 2);
    }
  }
  await reader.cancel().catch(() => {});
  return events;
}

beforeAll(async () => {
  dir = await createTempDir();
  config = {
    namespaces: { public: ['everything'], private: ['ok'] },
    auth: {
      tokens: [
        { id: 'ops', token: ADMIN, roles: ['admin'] },
        { id: 'guest', token: PUBLIC_ONLY, namespaces: ['public'] },
      ],
    },
    mcpServers: {
      everything: { command: process.execPath, args: [EVERYTHING_MAIN, 'stdio'] },
      ok: { command: process.execPath, args: [fixturePath('ok')] },
    },
  };
  gateway = await startGatewayProcess({ configPath: await dir.write('mcp.json', config) });
  await waitFor(() => gateway.stdout.some((line) => line.includes('Gateway ready: 2 of 2')), { message: 'start-up' });
});

afterAll(async () => {
  await gateway?.stop();
  await dir?.[Symbol.asyncDispose]();
});

describe('console API', () => {
  it('shows a credential only the tools its grant reaches, and try-it cannot reach the others', async () => {
    const state = await fetch(`${gateway.url}/console/api/state`, {
      headers: { authorization: `Bearer ${PUBLIC_ONLY}` },
    });
    const { catalog } = (await state.json()) as { catalog: Catalog };
    expect(catalog.tools.length).toBeGreaterThan(0);
    expect(new Set(catalog.tools.map((tool) => tool.server))).toEqual(new Set(['everything']));
    const hidden = (await (
      await post('call', PUBLIC_ONLY, JSON.stringify({ tool: 'ok__echo', arguments: { message: 'x' } }))
    ).json()) as {
      error?: { message: string };
    };
    expect(hidden.error?.message).toContain('unknown tool "ok__echo"');
    const admin = (await (
      await fetch(`${gateway.url}/console/api/state`, { headers: { authorization: `Bearer ${ADMIN}` } })
    ).json()) as {
      catalog: Catalog;
    };
    expect(admin.catalog.tools.some((tool) => tool.name === 'ok__echo')).toBe(true);
  });

  it('refuses malformed and oversized requests with a clear status, and keeps serving', async () => {
    expect((await post('call', ADMIN, '{"tool": ')).status).toBe(400);
    expect(await errorOf(await post('call', ADMIN, '[1, 2]'))).toBe('expected a JSON object');
    expect((await post('call', ADMIN, 'tool=x', 'application/x-www-form-urlencoded')).status).toBe(415);
    const huge = JSON.stringify({ tool: 'everything__echo', arguments: { message: 'x'.repeat(2 * 1024 * 1024) } });
    expect((await post('call', ADMIN, huge)).status).toBe(413);
    expect(
      await errorOf(await post('call', ADMIN, JSON.stringify({ tool: 'everything__echo', arguments: [1] }))),
    ).toContain('"arguments" must be a JSON object');
    expect((await post('action', ADMIN, JSON.stringify({ action: 'explode', server: 'ok' }))).status).toBe(409);
    expect((await post('action', ADMIN, JSON.stringify({ action: 'restart', server: 'nope' }))).status).toBe(404);
    expect((await post('approve', ADMIN, JSON.stringify({ server: 'ok', tool: 'echo' }))).status).toBe(409);
    expect(
      (await fetch(`${gateway.url}/console/api/call`, { headers: { authorization: `Bearer ${ADMIN}` } })).status,
    ).toBe(405);
    expect(
      (await fetch(`${gateway.url}/console/api/nothing`, { headers: { authorization: `Bearer ${ADMIN}` } })).status,
    ).toBe(404);
    const ok = (await (
      await post('call', ADMIN, JSON.stringify({ tool: 'ok__echo', arguments: { message: 'still here' } }))
    ).json()) as {
      result: { content: { text: string }[] };
    };
    expect(ok.result.content[0]?.text).toBe('still here');
  });

  it('answers many try-it calls at once, each with its own result', async () => {
    const answers = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const response = await post(
          'call',
          i % 2 ? ADMIN : PUBLIC_ONLY,
          JSON.stringify({ tool: 'everything__echo', arguments: { message: `m${i}` } }),
        );
        return ((await response.json()) as { result: { content: { text: string }[] } }).result.content[0]?.text;
      }),
    );
    expect(answers).toEqual(Array.from({ length: 20 }, (_, i) => `Echo: m${i}`));
  });

  it(`holds at most ${MAX_STREAMS} consoles open, and refuses the next with 503`, async () => {
    const aborts = Array.from({ length: MAX_STREAMS }, () => new AbortController());
    const open = await Promise.all(
      aborts.map((abort) =>
        fetch(`${gateway.url}/console/api/events`, {
          headers: { authorization: `Bearer ${ADMIN}` },
          signal: abort.signal,
        }),
      ),
    );
    expect(open.every((response) => response.status === 200)).toBe(true);
    const refused = await fetch(`${gateway.url}/console/api/events`, { headers: { authorization: `Bearer ${ADMIN}` } });
    expect(refused.status).toBe(503);
    for (const abort of aborts) abort.abort();
    await waitFor(async () => {
      const again = await fetch(`${gateway.url}/console/api/state`, { headers: { authorization: `Bearer ${ADMIN}` } });
      return again.status === 200;
    });
    const stream = await waitFor(async () => {
      const response = await fetch(`${gateway.url}/console/api/events`, {
        headers: { authorization: `Bearer ${ADMIN}` },
      });
      if (response.status === 200) return response;
      await response.body?.cancel();
      return undefined;
    });
    expect(await readEvents(stream, (events) => events.includes('catalog'))).toEqual(['log', 'state', 'catalog']);
  });

  it('ends the open console of a credential that a reload removed', async () => {
    const stream = await fetch(`${gateway.url}/console/api/events`, {
      headers: { authorization: `Bearer ${PUBLIC_ONLY}` },
    });
    expect(stream.status).toBe(200);
    const auth = config.auth as { tokens: object[] };
    await dir.write('mcp.json', { ...config, auth: { tokens: [auth.tokens[0]] } });
    const events = await readEvents(stream, (seen) => seen.includes('denied'));
    expect(events).toContain('denied');
    expect(
      (await fetch(`${gateway.url}/console/api/state`, { headers: { authorization: `Bearer ${PUBLIC_ONLY}` } })).status,
    ).toBe(401);
  });
});
