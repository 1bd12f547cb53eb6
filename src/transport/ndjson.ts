import type { JSONRPCMessage, RequestId } from '@modelcontextprotocol/sdk/types.js';

import { lineDelivered, parseJsonRpcLine } from './json-rpc-line.js';

export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
/** Bytes kept of each end of an oversized line, enough to read its id. */
const EDGE_BYTES = 512;

/** What the ends of an oversized line say it was: a response (to our request `id`) or a request of the peer's. */
export interface OversizedLine {
  bytes: number;
  id?: RequestId;
  kind?: 'response' | 'request';
}

export interface NdjsonDecoderOptions {
  /**
   * `line` is the message's own text (without its newline), for whoever can pass it on unparsed; `alone` says
   * that it came in a chunk of its own (no other message arrived with it).
   */
  onMessage(message: JSONRPCMessage, line: string, alone: boolean): void;
  /** A line that is not a JSON-RPC 2.0 message (a banner, partial JSON): reported, never fatal. */
  onGarbage?(line: string): void;
  /** A line longer than the limit was dropped without being buffered whole; its id, when its ends tell it. */
  onOversized?(line: OversizedLine): void;
  /** The longest line accepted, in bytes (MAX_MESSAGE_BYTES). */
  maxMessageBytes?: number;
}

/**
 * Newline-delimited JSON-RPC, as MCP's stdio transport frames it. Only JSON.parse (of the params or result
 * alone when the line has a usual layout, see json-rpc-line.ts) and a shape check run per message: full schema validation belongs to whoever handles the message, not to the pipe. A line is
 * buffered as the chunks that make it up and joined once, so a long line costs one copy, not one per chunk.
 */
export class NdjsonDecoder {
  private chunks: Buffer[] = [];
  private pending = 0;
  /** Set while the rest of an oversized line is skipped: its first and last bytes and its length so far. */
  private discarding?: { head: Buffer; tail: Buffer; bytes: number };
  private readonly maxBytes: number;

  constructor(private readonly options: NdjsonDecoderOptions) {
    this.maxBytes = options.maxMessageBytes ?? MAX_MESSAGE_BYTES;
  }

  push(chunk: Buffer): void {
    let start = 0;
    let newline = chunk.indexOf(10);
    while (newline !== -1) {
      // A whole line in this chunk (the usual case): decoded straight from it, with no view or copy of it made.
      if (this.pending === 0 && this.discarding === undefined && newline - start <= this.maxBytes) {
        const alone = start === 0 && newline === chunk.length - 1;
        if (newline > start) this.onLine(chunk.toString('utf8', start, newline), alone);
      } else {
        this.append(chunk.subarray(start, newline));
        this.endLine();
      }
      start = newline + 1;
      newline = start < chunk.length ? chunk.indexOf(10, start) : -1;
    }
    if (start < chunk.length) this.append(chunk.subarray(start));
  }

  private append(part: Buffer): void {
    if (part.length === 0) return;
    const skipped = this.discarding;
    if (skipped) {
      skipped.bytes += part.length;
      skipped.tail = lastBytes(Buffer.concat([skipped.tail, part.subarray(-EDGE_BYTES)]));
      return;
    }
    this.chunks.push(part);
    this.pending += part.length;
    if (this.pending <= this.maxBytes) return;
    this.discarding = { head: firstBytes(this.chunks), tail: lastBytes(part), bytes: this.pending };
    this.chunks = [];
    this.pending = 0;
  }

  private endLine(): void {
    const skipped = this.discarding;
    if (skipped) {
      this.discarding = undefined;
      this.options.onOversized?.({ bytes: skipped.bytes, ...idOfEnds(skipped.head, skipped.tail) });
      return;
    }
    if (this.chunks.length === 0) return;
    const line = (this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks)).toString('utf8');
    this.chunks = [];
    this.pending = 0;
    this.onLine(line, false);
  }

  private onLine(raw: string, alone: boolean): void {
    const line = raw.charCodeAt(raw.length - 1) === CARRIAGE_RETURN ? raw.slice(0, -1) : raw;
    // A JSON-RPC line starts with `{`: only another one can be blank.
    if (line.charCodeAt(0) !== OPEN_BRACE && line.trim() === '') return;
    let message: unknown;
    try {
      message = parseJsonRpcLine(line);
    } catch {
      this.options.onGarbage?.(line);
      return;
    }
    try {
      if (isJsonRpcMessage(message)) this.options.onMessage(message, line, alone);
      else this.options.onGarbage?.(line);
    } finally {
      lineDelivered();
    }
  }
}

export function isJsonRpcMessage(value: unknown): value is JSONRPCMessage {
  return typeof value === 'object' && value !== null && (value as { jsonrpc?: unknown }).jsonrpc === '2.0';
}

function firstBytes(chunks: Buffer[]): Buffer {
  const head: Buffer[] = [];
  let size = 0;
  for (const chunk of chunks) {
    if (size >= EDGE_BYTES) break;
    head.push(chunk.subarray(0, EDGE_BYTES - size));
    size += head.at(-1)!.length;
  }
  return Buffer.concat(head);
}

/** A copy of the last EDGE_BYTES of `buffer`, so that a skipped chunk is not kept alive by a view of it. */
function lastBytes(buffer: Buffer): Buffer {
  return Buffer.from(buffer.subarray(-EDGE_BYTES));
}

const CARRIAGE_RETURN = 0x0d;
const OPEN_BRACE = 0x7b;

const ID = String.raw`(-?\d{1,16}|"(?:[^"\\]|\\.){0,256}")`;
const VERSION = String.raw`"jsonrpc"\s*:\s*"2\.0"\s*,\s*`;
/** `{"jsonrpc":"2.0","id":5,"result":` or `{"id":5,...`: the id leads (most JSON-RPC libraries). */
const LEADING_ID = new RegExp(
  String.raw`^\s*\{\s*(?:${VERSION})?"id"\s*:\s*${ID}\s*,\s*(?:${VERSION})?"(result|error|method)"\s*:`,
);
/** `{"result":…,"jsonrpc":"2.0","id":5}`: the id trails (the TypeScript SDK writes its answers this way). */
const LEADING_BODY = new RegExp(String.raw`^\s*\{\s*(?:${VERSION})?"(result|error|method)"\s*:`);
const TRAILING_ID = new RegExp(String.raw`,\s*"id"\s*:\s*${ID}\s*\}\s*$`);

/**
 * The id of a line too long to parse, read from its first and last bytes alone. Only the common layouts are
 * recognised; anything else yields nothing rather than a guess.
 */
function idOfEnds(head: Buffer, tail: Buffer): Omit<OversizedLine, 'bytes'> {
  const start = head.toString('utf8');
  const leading = LEADING_ID.exec(start);
  const body = leading ? undefined : LEADING_BODY.exec(start);
  const token = leading?.[1] ?? (body ? TRAILING_ID.exec(tail.toString('latin1'))?.[1] : undefined);
  const member = leading?.[2] ?? body?.[1];
  if (token === undefined || member === undefined) return {};
  const id = token.startsWith('"') ? parseString(token) : Number(token);
  if (id === undefined || (typeof id === 'number' && !Number.isSafeInteger(id))) return {};
  return { id, kind: member === 'method' ? 'request' : 'response' };
}

function parseString(token: string): string | undefined {
  try {
    return JSON.parse(token) as string;
  } catch {
    return undefined;
  }
}
