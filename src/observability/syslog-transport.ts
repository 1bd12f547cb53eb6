import dgram from 'node:dgram';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';

/** How one formatted syslog message reaches the daemon. `send` never throws; failures go to `onError`. */
export interface SyslogConnection {
  readonly target: string;
  /** `fallback` is what to write elsewhere when this message can't be delivered. */
  send(message: Buffer, fallback: string): void;
  close(): Promise<void>;
}

export type DeliveryErrorHandler = (error: Error, fallback: string) => void;

interface Pending {
  message: Buffer;
  fallback: string;
}

interface UnixDgramSocket {
  on(event: 'error', listener: (error: Error) => void): void;
  send(buf: Buffer, offset: number, length: number, path: string, callback: (error?: Error) => void): void;
  close(): void;
}
interface UnixDgramModule {
  createSocket(type: 'unix_dgram'): UnixDgramSocket;
}

const STREAM_QUEUE_LIMIT = 1000;
const RECONNECT_MIN_MS = 500;
const RECONNECT_MAX_MS = 30_000;
/** How long `close()` waits for a pending connection, and then for the daemon to close its side. */
const CLOSE_CONNECT_MS = 2000;

let unixDgram: UnixDgramModule | null | undefined;

/** The optional native `unix-dgram` module, or null when it did not build or load. */
function loadUnixDgram(): UnixDgramModule | null {
  if (unixDgram === undefined) {
    try {
      unixDgram = createRequire(import.meta.url)('unix-dgram') as UnixDgramModule;
    } catch {
      unixDgram = null;
    }
  }
  return unixDgram;
}

/**
 * A connection to the local syslog socket. /dev/log is a datagram socket (journald, rsyslog's imuxsock), which
 * Node can't open, so this uses the native `unix-dgram` module; a stream socket (syslog-ng's unix-stream) or a
 * missing module falls back to a `node:net` stream connection with newline framing.
 */
export function connectUnix(path: string, onError: DeliveryErrorHandler): SyslogConnection {
  const module = loadUnixDgram();
  if (!module) return connectStream({ path }, `unix-stream:${path}`, 'newline', onError);
  let stream: SyslogConnection | undefined;
  let socket: UnixDgramSocket | undefined;
  const closeSocket = () => {
    try {
      socket?.close();
    } catch {
      // Already closed.
    }
    socket = undefined;
  };
  return {
    target: `unix:${path}`,
    send(message, fallback) {
      if (stream) return stream.send(message, fallback);
      // The native socket's poll handle would keep the process alive: open it for one tick's burst of lines only.
      if (!socket) {
        socket = module.createSocket('unix_dgram');
        socket.on('error', () => {});
        setImmediate(closeSocket);
      }
      // sendto on a non-blocking socket: the callback runs synchronously, so nothing is lost at exit.
      socket.send(message, 0, message.length, path, (error) => {
        if (!error) return;
        if (errnoOf(error) === os.constants.errno.EPROTOTYPE) {
          stream = connectStream({ path }, `unix-stream:${path}`, 'newline', onError);
          stream.send(message, fallback);
          return;
        }
        onError(describe(error, `unix:${path}`), fallback);
      });
    },
    async close() {
      closeSocket();
      await stream?.close();
    },
  };
}

/** UDP, one message a datagram (RFC 5426). The socket keeps the process alive only while sends are pending. */
export function connectUdp(host: string, port: number, onError: DeliveryErrorHandler): SyslogConnection {
  const socket = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
  socket.on('error', () => {});
  socket.unref();
  let pending = 0;
  let drained: (() => void) | undefined;
  let closed = false;
  return {
    target: `udp://${host}:${port}`,
    send(message, fallback) {
      if (closed) return onError(new Error(`udp://${host}:${port}: logger closed`), fallback);
      if (pending++ === 0) socket.ref();
      socket.send(message, port, host, (error) => {
        if (--pending === 0) socket.unref();
        if (error) onError(describe(error, `udp://${host}:${port}`), fallback);
        if (pending === 0) drained?.();
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      if (pending > 0) await new Promise<void>((resolve) => (drained = resolve));
      await new Promise<void>((resolve) => socket.close(() => resolve()));
    },
  };
}

/** TCP with octet-counting framing (RFC 6587), reconnecting with backoff and a bounded queue meanwhile. */
export function connectTcp(host: string, port: number, onError: DeliveryErrorHandler): SyslogConnection {
  return connectStream({ host, port }, `tcp://${host}:${port}`, 'octet-counting', onError);
}

function connectStream(
  where: net.NetConnectOpts,
  target: string,
  framing: 'octet-counting' | 'newline',
  onError: DeliveryErrorHandler,
): SyslogConnection {
  // While a connection attempt is under way lines wait in a bounded queue; while the daemon is down they go
  // straight to the fallback, so nothing is held back indefinitely.
  let state: 'connecting' | 'connected' | 'down' | 'closed' = 'connecting';
  const queue: Pending[] = [];
  let socket: net.Socket | undefined;
  let delayMs = RECONNECT_MIN_MS;
  let retry: NodeJS.Timeout | undefined;

  const frame = (message: Buffer) =>
    framing === 'newline'
      ? Buffer.concat([message, Buffer.from('\n')])
      : Buffer.concat([Buffer.from(`${message.length} `), message]);

  // The socket is unref'd when idle, and ref'd while it has lines to deliver, so a process that ends
  // normally still gets its last lines out.
  const write = (current: net.Socket, message: Buffer) => {
    current.ref();
    current.write(frame(message), () => {
      if (current.writableLength === 0) current.unref();
    });
  };

  const connect = () => {
    retry = undefined;
    state = 'connecting';
    const current = net.connect(where);
    socket = current;
    current.unref();
    current.setNoDelay(true);
    current.on('connect', () => {
      state = 'connected';
      delayMs = RECONNECT_MIN_MS;
      for (const pending of queue.splice(0)) write(current, pending.message);
    });
    current.on('error', (error) => {
      const failure = describe(error, target);
      for (const pending of queue.splice(0)) onError(failure, pending.fallback);
      current.unref();
      if (state !== 'closed') state = 'down';
    });
    current.on('close', () => {
      if (socket === current) socket = undefined;
      if (state === 'closed') return;
      state = 'down';
      retry = setTimeout(connect, delayMs);
      retry.unref();
      delayMs = Math.min(delayMs * 2, RECONNECT_MAX_MS);
    });
  };

  connect();
  return {
    target,
    send(message, fallback) {
      if (state === 'connected' && socket) {
        write(socket, message);
      } else if (state === 'connecting') {
        queue.push({ message, fallback });
        socket?.ref();
        if (queue.length > STREAM_QUEUE_LIMIT) {
          onError(new Error(`${target}: still connecting, queue full`), queue.shift()?.fallback ?? '');
        }
      } else {
        onError(new Error(`${target}: ${state === 'down' ? 'not connected' : 'logger closed'}`), fallback);
      }
    },
    async close() {
      if (state === 'closed') return;
      clearTimeout(retry);
      const current = socket;
      if (state === 'connecting' && current) {
        // Lines logged just before shutdown wait for the connection, for a bounded time.
        const timer = setTimeout(() => current.destroy(new Error('connect timed out at close')), CLOSE_CONNECT_MS);
        await new Promise<void>((resolve) => {
          current.once('connect', () => resolve());
          current.once('close', () => resolve());
        });
        clearTimeout(timer);
        clearTimeout(retry);
      }
      const wasConnected = state === 'connected';
      state = 'closed';
      if (!current || !wasConnected) return;
      current.ref();
      const timer = setTimeout(() => current.destroy(), CLOSE_CONNECT_MS);
      await new Promise<void>((resolve) => {
        current.once('close', () => resolve());
        current.end();
      });
      clearTimeout(timer);
    },
  };
}

function errnoOf(error: Error): number {
  const code = (error as { code?: unknown }).code;
  // unix-dgram reports the negated errno as a number; node:net uses strings.
  if (typeof code === 'number') return Math.abs(code);
  if (typeof code === 'string') return (os.constants.errno as Record<string, number>)[code] ?? 0;
  return 0;
}

function describe(error: Error, target: string): Error {
  const errno = errnoOf(error);
  const name = Object.entries(os.constants.errno).find(([, value]) => value === errno)?.[0];
  return new Error(`${target}: ${name ?? error.message}`, { cause: error });
}
