// The Streamable HTTP upstream transport against a loopback server that stalls: a notification or response the
// server never acknowledges is given up on (and its socket closed) within the bound; a request is not.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, expect, it } from 'vitest';

import { isGatewayError } from '../errors.js';
import { HttpUpstreamTransport } from './http-transport.js';

let server: Server | undefined;
let transport: HttpUpstreamTransport | undefined;

afterEach(async () => {
  await transport?.close();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = transport = undefined;
});

/** Answers a request (a message with an id) with JSON after `answerAfterMs`; never answers anything else. */
async function stallingServer(answerAfterMs: number) {
  const hung: IncomingMessage[] = [];
  const closed: IncomingMessage[] = [];
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const message = JSON.parse(body) as { id?: number };
      if (message.id === undefined) {
        hung.push(req);
        res.on('close', () => closed.push(req));
        return;
      }
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ jsonrpc: '2.0', id: message.id, result: { answered: true } }));
      }, answerAfterMs);
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`);
  return { url, hung, closed };
}

it('gives up on a notification the server never acknowledges, with a clear error, and closes its request', async () => {
  const { url, hung, closed } = await stallingServer(0);
  transport = new HttpUpstreamTransport(url, { headers: {}, acknowledgeTimeoutMs: 200 });
  const errors: Error[] = [];
  transport.onerror = (error) => errors.push(error); // the connection's owner hears of it (and probes the server)
  const cancel: JSONRPCMessage = { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1 } };

  const outcomes = await Promise.allSettled([1, 2, 3].map(() => transport!.send(cancel)));

  for (const outcome of outcomes) {
    expect(outcome.status).toBe('rejected');
    const reason = (outcome as PromiseRejectedResult).reason as unknown;
    expect(isGatewayError(reason) && reason.code).toBe('UPSTREAM_TIMEOUT');
    expect((reason as Error).message).toMatch(/did not acknowledge notifications\/cancelled within 200 ms/);
  }
  expect(errors).toHaveLength(3);
  expect(hung).toHaveLength(3);
  await expect.poll(() => closed.length).toBe(3);
});

it('waits for a request’s answer past that bound: the call’s own timeout is the caller’s', async () => {
  const { url } = await stallingServer(500);
  transport = new HttpUpstreamTransport(url, { headers: {}, acknowledgeTimeoutMs: 100 });
  const received: JSONRPCMessage[] = [];
  transport.onmessage = (message) => received.push(message);

  await transport.send({ jsonrpc: '2.0', id: 7, method: 'tools/list' });

  expect(received).toEqual([{ jsonrpc: '2.0', id: 7, result: { answered: true } }]);
});

it('ends the response stream of a request it cancels, without reporting an error, and does not resume it', async () => {
  const streams: ServerResponse[] = [];
  const ended: ServerResponse[] = [];
  const gets: IncomingMessage[] = [];
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.method === 'GET') {
      gets.push(req);
      res.writeHead(405).end();
      return;
    }
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const message = JSON.parse(body) as { id?: number };
      if (message.id === undefined) {
        res.writeHead(202).end();
        return;
      }
      // A call that never ends: an event id (so the stream could be resumed), then nothing.
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(
        'id: e1\ndata: {"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":1,"progress":1}}\n\n',
      );
      streams.push(res);
      res.on('close', () => ended.push(res));
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  transport = new HttpUpstreamTransport(new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`), {
    headers: {},
  });
  const errors: Error[] = [];
  transport.onerror = (error) => errors.push(error);
  const progress: JSONRPCMessage[] = [];
  transport.onmessage = (message) => progress.push(message);

  await transport.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'slow' } });
  await transport.send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'slow' } });
  await expect.poll(() => progress.length).toBe(2);
  await transport.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1 } });

  await expect.poll(() => ended).toEqual([streams[0]]);
  await new Promise((resolve) => setTimeout(resolve, 1_200)); // past the first resumption's delay
  expect(gets).toEqual([]);
  expect(errors).toEqual([]);
  expect(ended).toHaveLength(1); // the other call's stream is still open
});
