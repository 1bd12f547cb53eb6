import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

import { NdjsonDecoder } from './ndjson.js';

/**
 * The gateway's own side of `--stdio`: MCP over stdin/stdout, framed by NdjsonDecoder. It replaces the SDK's
 * StdioServerTransport, which schema-parses every message on the hot path and fails on a stray line;
 * here a line that is not JSON-RPC is reported and skipped. Ends (onclose) when stdin ends.
 */
export class StdioServerTransport implements Transport {
  onmessage?: (message: JSONRPCMessage) => void;
  onclose?: () => void;
  onerror?: (error: Error) => void;

  private readonly decoder = new NdjsonDecoder({
    onMessage: (message) => this.onmessage?.(message),
    onGarbage: (line) => this.onerror?.(new Error(`ignored a stdin line that is not JSON-RPC: ${line.slice(0, 200)}`)),
    onOversized: (bytes) => this.onerror?.(new Error(`dropped a stdin line of ${bytes} bytes`)),
  });
  private closed = false;

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
    if (this.stdout.write(`${JSON.stringify(message)}\n`)) return Promise.resolve();
    return new Promise((resolve) => this.stdout.once('drain', () => resolve()));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stdin.off('data', this.onData);
    this.stdin.off('error', this.onError);
    this.stdin.off('end', this.onEnd);
    this.stdout.off('error', this.onError);
    // Let go of stdin so the process can exit once everything else is done.
    (this.stdin as NodeJS.ReadStream).pause?.();
    this.onclose?.();
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
