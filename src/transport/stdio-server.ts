import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, RequestId } from '@modelcontextprotocol/sdk/types.js';

import {
  ALREADY_INITIALIZED,
  INVALID_REQUEST,
  isInitializeRequest,
  type Refusal,
  refusalResponse,
  screenMessage,
} from '../relay/bounds.js';
import { messageText } from '../relay/message-text.js';
import { NdjsonDecoder, type OversizedLine } from './ndjson.js';
import { WRITTEN } from './written.js';

/**
 * The gateway's own side of `--stdio`: MCP over stdin/stdout, framed by NdjsonDecoder. It replaces the SDK's
 * StdioServerTransport, which schema-parses every message on the hot path and fails on a stray line. Every line
 * is answered: a message out of bounds or not JSON-RPC gets its JSON-RPC error (the SDK would drop it). Nothing
 * but answers goes out before the client's `initialize` is answered, so the client hears nothing unasked for.
 * Ends (onclose) when stdin ends.
 */
export class StdioServerTransport implements Transport {
  onmessage?: (message: JSONRPCMessage) => void;
  onclose?: () => void;
  onerror?: (error: Error) => void;

  private readonly decoder = new NdjsonDecoder({
    onMessage: (message, _line, alone) => this.receive(message, alone),
    onGarbage: (line) => this.onGarbage(line),
    onOversized: (line) => this.onOversized(line),
  });
  private closed = false;
  /**
   * True while `onmessage` handles a message that came in a chunk of its own: nothing else arrived with it, so
   * its handling need not wait for theirs (see relay/lean-dispatch.ts).
   */
  messageArrivedAlone = false;
  /** The id of the client's `initialize` request, until it is answered; then `true`. */
  private initialized: RequestId | boolean = false;
  /** While stdout's buffer is full: what every send made meanwhile waits for (see whenWritable). */
  private writable?: { promise: Promise<void>; end: () => void };

  constructor(
    private readonly stdin: NodeJS.ReadableStream = process.stdin,
    private readonly stdout: NodeJS.WritableStream = process.stdout,
  ) {}

  async start(): Promise<void> {
    this.stdin.on('data', this.onData);
    this.stdin.on('error', this.onError);
    this.stdin.once('end', this.onEnd);
    this.stdout.on('error', this.onError);
  }

  send(message: JSONRPCMessage): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.initialized !== true) {
      const isAnswer = !('method' in message);
      if (!isAnswer && !('id' in message)) return Promise.resolve(); // a notification before initialize
      if (isAnswer && 'id' in message && message.id === this.initialized) this.initialized = true;
    }
    if (this.stdout.write(`${messageText(message)}\n`)) return WRITTEN;
    return this.whenWritable();
  }

  /**
   * Settles once stdout takes writes again, or once it never will: a client that closed its end mid-answer
   * leaves a stream that emits 'close' (or 'error'), never 'drain', and a wait for 'drain' alone would hold the
   * send, and whoever awaits it, for good. One wait serves every send made while the buffer is full, so that
   * many sends add no listeners beyond three.
   */
  private whenWritable(): Promise<void> {
    if (this.writable) return this.writable.promise;
    const stdout = this.stdout as NodeJS.WritableStream & {
      destroyed?: boolean;
      errored?: unknown;
      writableEnded?: boolean;
    };
    // An errored stream that does not destroy itself (autoDestroy off) emits nothing more either.
    if (this.closed || stdout.destroyed || stdout.errored || stdout.writableEnded) return Promise.resolve();
    let resolve!: () => void;
    const promise = new Promise<void>((settle) => (resolve = settle));
    const end = () => {
      stdout.off('drain', end);
      stdout.off('close', end);
      stdout.off('error', end);
      this.writable = undefined;
      resolve();
    };
    stdout.once('drain', end);
    stdout.once('close', end);
    stdout.once('error', end);
    this.writable = { promise, end };
    return promise;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stdin.off('data', this.onData);
    this.stdin.off('error', this.onError);
    this.stdin.off('end', this.onEnd);
    this.stdout.off('error', this.onError);
    // Nothing more is written: a send still waiting for room is over.
    this.writable?.end();
    // Let go of stdin so the process can exit once everything else is done.
    (this.stdin as NodeJS.ReadStream).pause?.();
    this.onclose?.();
  }

  private receive(value: unknown, alone = false): void {
    if (Array.isArray(value)) {
      return this.refuse({ id: null, kind: 'envelope', code: -32600, message: 'Invalid Request: no batches on stdio' });
    }
    const screened = screenMessage(value);
    if (!screened.ok) return this.refuse(screened.refusal);
    const { message } = screened;
    if (isInitializeRequest(message)) {
      // One session per stdio connection: a second initialize would have the SDK server take the new client's
      // capabilities and version in the middle of the session (the HTTP fronts refuse it as well).
      if (this.initialized !== false) {
        return this.refuse({ id: message.id, kind: 'envelope', code: INVALID_REQUEST, message: ALREADY_INITIALIZED });
      }
      this.initialized = message.id;
    }
    this.messageArrivedAlone = alone;
    try {
      this.onmessage?.(message);
    } finally {
      this.messageArrivedAlone = false;
    }
  }

  private refuse(refusal: Refusal): void {
    this.onerror?.(new Error(`refused a stdin line: ${refusal.message}`));
    void this.send(refusalResponse(refusal) as JSONRPCMessage);
  }

  private onGarbage(line: string): void {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      return this.refuse({ id: null, kind: 'envelope', code: -32700, message: 'Parse error: a line that is not JSON' });
    }
    this.receive(value);
  }

  private onOversized({ bytes, id, kind }: OversizedLine): void {
    this.refuse({
      id: kind === 'request' && id !== undefined ? id : null,
      kind: 'envelope',
      code: -32600,
      message: `Invalid Request: a message of ${bytes} bytes exceeds the limit and was dropped`,
    });
  }

  private readonly onData = (chunk: Buffer | string): void => {
    this.decoder.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  };

  private readonly onError = (error: Error): void => {
    this.onerror?.(error);
  };

  private readonly onEnd = (): void => {
    void this.close();
  };
}
