import { createServer, type IncomingMessage, type Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import { HttpError, readJsonBody } from './http-body.js';

let server: Server | undefined;

afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

/** A loopback server whose requests' bodies are read by `readJsonBody`; resolves with the port and each outcome. */
async function bodyServer(limit?: number) {
  const outcomes: Promise<unknown>[] = [];
  server = createServer((req: IncomingMessage, res) => {
    const outcome = readJsonBody(req, limit);
    outcomes.push(outcome);
    outcome.then(
      () => res.end('ok'),
      () => res.end('refused'),
    );
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, outcomes };
}

/** Sends raw bytes, in the pieces given, then leaves (with `abort`, before any answer). */
async function send(port: number, pieces: string[], abort: boolean): Promise<void> {
  const socket = connect(port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  for (const piece of pieces) {
    socket.write(piece);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  if (abort) socket.destroy();
  else await new Promise((resolve) => socket.once('data', resolve)).finally(() => socket.destroy());
}

describe('readJsonBody', () => {
  it('parses a body that arrives in several pieces', async () => {
    const { port, outcomes } = await bodyServer();
    const body = '{"jsonrpc":"2.0","id":1,"method":"ping"}';
    await send(
      port,
      [`POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n`, body.slice(0, 9), body.slice(9)],
      false,
    );
    await expect(outcomes[0]).resolves.toEqual({ jsonrpc: '2.0', id: 1, method: 'ping' });
  });

  it('refuses a client that leaves mid-body with the error of its request, and nothing goes uncaught', async () => {
    const { port, outcomes } = await bodyServer();
    await send(port, ['POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"jsonrpc":'], true);
    await expect(outcomes[0]).rejects.toThrow('aborted');
  });

  it('refuses a body over the limit with 413 as its bytes arrive', async () => {
    const { port, outcomes } = await bodyServer(16);
    await send(
      port,
      [
        'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n',
        '20\r\n{"a":"0123456789012345678901234"}\r\n0\r\n\r\n',
      ],
      false,
    );
    const error = await outcomes[0]!.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpError);
    expect((error as HttpError).status).toBe(413);
  });
});
