import type { IncomingMessage, ServerResponse } from 'node:http';

import { jsonNestsDeeperThan, MAX_JSON_DEPTH } from '../relay/bounds.js';

export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly rpcCode = -32600,
  ) {
    super(message);
  }
}

/** Reads and parses a JSON body, refusing more than `limit` bytes as soon as they arrive. */
export async function readJsonBody(req: IncomingMessage, limit = DEFAULT_MAX_BODY_BYTES): Promise<unknown> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    throw new HttpError(413, `Request body exceeds ${limit} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      req.resume();
      throw new HttpError(413, `Request body exceeds ${limit} bytes`);
    }
    chunks.push(chunk);
  }
  const bytes = Buffer.concat(chunks);
  if (jsonNestsDeeperThan(bytes)) {
    throw new HttpError(400, `Invalid Request: JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
  }
  const text = bytes.toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new HttpError(400, `Parse error: ${(error as Error).message}`, -32700);
  }
}

/** A JSON-RPC error as an HTTP response, so that even a refused request tells the client what was wrong. */
export function sendRpcError(res: ServerResponse, status: number, code: number, message: string, id: unknown = null) {
  if (res.headersSent) {
    res.end();
    return;
  }
  const body = JSON.stringify({ jsonrpc: '2.0', id, error: { code, message } });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
}
