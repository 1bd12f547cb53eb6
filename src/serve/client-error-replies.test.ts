import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import { ClientErrorReplies, REPLIES_PER_TURN } from './client-error-replies.js';

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
const timeout = (code: string) => Object.assign(new Error('timed out'), { code });

let server: Server | undefined;
const clients: Socket[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  server?.close();
  if (server) await once(server, 'close');
  server = undefined;
});

/** `count` connected socket pairs on 127.0.0.1: the server's ends, and what each client end receives until it closes. */
async function socketPairs(count: number): Promise<{ accepted: Socket[]; received: Promise<string>[] }> {
  const accepted: Socket[] = [];
  server = createServer((socket) => accepted.push(socket));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  const received: Promise<string>[] = [];
  for (let i = 0; i < count; i++) {
    const client = connect(port, '127.0.0.1');
    clients.push(client);
    let text = '';
    client.setEncoding('utf8');
    client.on('data', (chunk: string) => (text += chunk));
    received.push(once(client, 'close').then(() => text));
    await once(client, 'connect');
  }
  while (accepted.length < count) await nextTurn();
  return { accepted, received };
}

describe('ClientErrorReplies', () => {
  it('answers the sockets Node reports in one go a bounded number per turn, each with its status', async () => {
    const count = REPLIES_PER_TURN * 2 + 10;
    const { accepted, received } = await socketPairs(count);
    const replies = new ClientErrorReplies(16 * 1024);
    // As Node's header-timeout check reports them: every expired socket in the same turn.
    for (const socket of accepted) replies.onClientError(timeout('ERR_HTTP_REQUEST_TIMEOUT'), socket);
    const ended = () => accepted.filter((socket) => socket.writableEnded).length;
    expect(ended()).toBe(0);
    expect(accepted.every((socket) => socket.isPaused())).toBe(true);
    const perTurn: number[] = [];
    for (let turn = 0; turn < 10 && ended() < count; turn++) {
      const before = ended();
      await nextTurn();
      perTurn.push(ended() - before);
    }
    expect(perTurn).toEqual([REPLIES_PER_TURN, REPLIES_PER_TURN, 10]);
    for (const text of await Promise.all(received)) {
      expect(text).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
      expect(text).toContain('"code":-32600');
    }
  });

  it('says 431 for headers too large and 400 for what is not HTTP, and only destroys a socket it cannot write', async () => {
    const { accepted, received } = await socketPairs(3);
    const [large, garbled, gone] = accepted as [Socket, Socket, Socket];
    gone.end();
    const replies = new ClientErrorReplies(16 * 1024);
    replies.onClientError(timeout('HPE_HEADER_OVERFLOW'), large);
    replies.onClientError(timeout('HPE_INVALID_METHOD'), garbled);
    replies.onClientError(timeout('ERR_HTTP_REQUEST_TIMEOUT'), gone);
    const [toLarge, toGarbled, toGone] = await Promise.all(received);
    expect(toLarge).toMatch(/^HTTP\/1\.1 431 .*Request headers exceed 16384 bytes/s);
    expect(toGarbled).toMatch(/^HTTP\/1\.1 400 .*not a valid HTTP request/s);
    expect(toGone).toBe('');
  });
});
