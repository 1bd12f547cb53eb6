import { once } from 'node:events';
import { PassThrough, Writable } from 'node:stream';

import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';

import { StdioServerTransport } from './stdio-server.js';

/** A client's stdin that has stopped reading: each write stays unfinished until `release()` finishes them. */
function stalledStdout() {
  const unfinished: Array<() => void> = [];
  const stream = new Writable({
    highWaterMark: 1,
    write(_chunk, _encoding, done) {
      unfinished.push(() => done());
    },
  });
  return { stream, release: () => unfinished.splice(0).forEach((done) => done()) };
}

function answer(id: number): JSONRPCMessage {
  return { jsonrpc: '2.0', id, result: {} } as JSONRPCMessage;
}

/** Whether `promise` has settled once the events already queued have run. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(() => (done = true));
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

async function startedTransport(stdout: Writable) {
  const transport = new StdioServerTransport(new PassThrough(), stdout);
  transport.onerror = () => {};
  await transport.start();
  return transport;
}

describe('StdioServerTransport.send with a full stdout', () => {
  it('ends when the client closes its end mid-answer, which never drains', async () => {
    const { stream } = stalledStdout();
    const transport = await startedTransport(stream);
    const sending = transport.send(answer(1));
    expect(await settled(sending)).toBe(false);
    stream.destroy();
    await once(stream, 'close');
    expect(await settled(sending)).toBe(true);
  });

  it('does not wait on a stdout that failed without destroying itself (autoDestroy off)', async () => {
    const stream = new Writable({
      highWaterMark: 1,
      autoDestroy: false,
      write(_chunk, _encoding, done) {
        done(new Error('EPIPE'));
      },
    });
    const transport = await startedTransport(stream);
    await transport.send(answer(1));
    await once(stream, 'error');
    const later = [transport.send(answer(2)), transport.send(answer(3))];
    for (const sending of later) expect(await settled(sending)).toBe(true);
    expect(['drain', 'close', 'error'].map((event) => stream.listenerCount(event))).toEqual([0, 0, 1]);
  });

  it('ends when stdout fails', async () => {
    const { stream } = stalledStdout();
    const transport = await startedTransport(stream);
    const sending = transport.send(answer(1));
    const closed = new Promise((resolve) => stream.once('close', resolve));
    stream.destroy(new Error('EPIPE'));
    await closed;
    expect(await settled(sending)).toBe(true);
  });

  it('ends when the transport closes', async () => {
    const { stream } = stalledStdout();
    const transport = await startedTransport(stream);
    const sending = transport.send(answer(1));
    await transport.close();
    expect(await settled(sending)).toBe(true);
  });

  it('lets every send made while the buffer is full wait on one set of listeners, all ending on drain', async () => {
    const { stream, release } = stalledStdout();
    const transport = await startedTransport(stream);
    const sends = Array.from({ length: 20 }, (_, i) => transport.send(answer(i + 1)));
    expect(stream.listenerCount('drain')).toBe(1);
    expect(await settled(Promise.all(sends))).toBe(false);
    release();
    // Finishing the first writes lets the buffered ones run: release those too, a bounded number of times.
    for (let round = 0; round < 20 && stream.writableLength > 0; round++) {
      await new Promise((resolve) => setImmediate(resolve));
      release();
    }
    expect(await settled(Promise.all(sends))).toBe(true);
    expect(stream.listenerCount('drain')).toBe(0);
    expect(stream.listenerCount('close')).toBe(0);
  });
});
