import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

export interface NdjsonDecoderOptions {
  onMessage(message: JSONRPCMessage): void;
  /** A line that is not a JSON-RPC 2.0 message (a banner, partial JSON): reported, never fatal. */
  onGarbage?(line: string): void;
  /** A line longer than MAX_MESSAGE_BYTES was dropped. */
  onOversized?(bytes: number): void;
}

/**
 * Newline-delimited JSON-RPC, as MCP's stdio transport frames it. Only JSON.parse and a shape check run
 * per message: full schema validation belongs to whoever handles the message, not to the pipe.
 */
export class NdjsonDecoder {
  private buffer: Buffer | undefined;

  constructor(private readonly options: NdjsonDecoderOptions) {}

  push(chunk: Buffer): void {
    let data = this.buffer ? Buffer.concat([this.buffer, chunk]) : chunk;
    let newline = data.indexOf(10);
    while (newline !== -1) {
      const line = data.toString('utf8', 0, newline);
      data = data.subarray(newline + 1);
      this.onLine(line);
      newline = data.indexOf(10);
    }
    if (data.length > MAX_MESSAGE_BYTES) {
      this.options.onOversized?.(data.length);
      data = Buffer.alloc(0);
    }
    this.buffer = data.length > 0 ? data : undefined;
  }

  private onLine(raw: string): void {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') return;
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      this.options.onGarbage?.(line);
      return;
    }
    if (isJsonRpcMessage(message)) this.options.onMessage(message);
    else this.options.onGarbage?.(line);
  }
}

export function isJsonRpcMessage(value: unknown): value is JSONRPCMessage {
  return typeof value === 'object' && value !== null && (value as { jsonrpc?: unknown }).jsonrpc === '2.0';
}
