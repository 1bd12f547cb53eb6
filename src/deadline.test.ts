import { getEventListeners } from 'node:events';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import { expect, it } from 'vitest';

import { deadlineSignal } from './deadline.js';

/** A full garbage collection, as one runs at any time in a busy gateway. */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it('times out after a garbage collection (a bare AbortSignal.any of a timeout loses it on Node 20)', async () => {
  const connection = new AbortController();
  const signal = deadlineSignal(50, connection.signal);
  let heard = 0;
  signal.addEventListener('abort', () => heard++); // as fetch listens
  await sleep(10); // past the creating frame, which still holds it
  collectGarbage();
  await sleep(300);
  expect(signal.aborted).toBe(true);
  expect((signal.reason as Error).name).toBe('TimeoutError');
  expect(heard).toBe(1);
});

it('aborts with the signal it was given, before the time is up', () => {
  const connection = new AbortController();
  const signal = deadlineSignal(60_000, connection.signal);
  connection.abort(new Error('closed'));
  expect(signal.aborted).toBe(true);
  expect((signal.reason as Error).message).toBe('closed');
});

it('leaves nothing on a long-lived signal once its time is up (one deadline per message must not pile up)', async () => {
  const connection = new AbortController();
  for (let i = 0; i < 100; i++) deadlineSignal(20, connection.signal);
  expect(getEventListeners(connection.signal, 'abort')).toHaveLength(100);
  await sleep(100);
  expect(getEventListeners(connection.signal, 'abort')).toHaveLength(0);
});

it('is aborted already when the signal it was given is', () => {
  const connection = new AbortController();
  connection.abort(new Error('gone'));
  expect((deadlineSignal(1_000, connection.signal).reason as Error).message).toBe('gone');
});
