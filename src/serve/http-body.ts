import { isUtf8 } from 'node:buffer';
import type { IncomingMessage, ServerResponse } from 'node:http';

import { isJsonContentType } from '@modelcontextprotocol/sdk/shared/mediaType.js';

import { jsonNestsDeeperThan, MAX_JSON_DEPTH } from '../relay/bounds.js';

export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;

/** Whether a Content-Type names JSON, as the SDK judges it; the usual exact value without parsing it. */
export function isJsonContent(header: string | undefined): boolean {
  return header === 'application/json' || isJsonContentType(header);
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly rpcCode = -32600,
  ) {
    super(message);
  }
}

/**
 * Reads and parses a JSON body, refusing more than `limit` bytes as soon as they arrive. Read with plain `data` and
 * `end` listeners: an async iterator over the request costs several promises and objects per body.
 */
export function readJsonBody(req: IncomingMessage, limit = DEFAULT_MAX_BODY_BYTES): Promise<unknown> {
  const encoding = req.headers['content-encoding'];
  // Compressed bodies are refused rather than read as JSON (which reported a parse error that hid the cause).
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
    req.resume();
    const shown = JSON.stringify(encoding.slice(0, 40));
    return Promise.reject(
      new HttpError(415, `Unsupported Media Type: Content-Encoding ${shown} is not accepted; send the body as is`),
    );
  }
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.reject(new HttpError(413, `Request body exceeds ${limit} bytes`));
  }
  if (req.destroyed) return Promise.reject(req.errored ?? prematureClose());
  return new Promise((resolve, reject) => {
    let first: Buffer | undefined;
    let rest: Buffer[] | undefined;
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        detach();
        // The rest is read and dropped, so that the client gets its 413 (a destroyed request would take the
        // connection, and the answer, with it); the server's requestTimeout bounds a body that never ends.
        req.resume();
        return reject(new HttpError(413, `Request body exceeds ${limit} bytes`));
      }
      if (first === undefined) first = chunk;
      else (rest ??= [first]).push(chunk);
    };
    const onEnd = () => {
      detach();
      try {
        resolve(parseJsonBody(rest ? Buffer.concat(rest) : (first ?? EMPTY)));
      } catch (error) {
        reject(error as Error);
      }
    };
    // No 'error' listener: a request emits 'error' only to listeners (else it is kept as `req.errored`), and its
    // 'close' follows every error, so one listener less per body loses nothing.
    const onClose = () => {
      detach();
      reject(req.errored ?? prematureClose());
    };
    const detach = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('close', onClose);
  });
}

const EMPTY = Buffer.alloc(0);

function parseJsonBody(bytes: Buffer): unknown {
  if (jsonNestsDeeperThan(bytes)) {
    throw new HttpError(400, `Invalid Request: JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
  }
  // JSON text is UTF-8 (RFC 8259 8.1); decoded anyway, bytes that are not would reach a server as U+FFFD, unnoticed.
  if (!isUtf8(bytes)) throw new HttpError(400, 'Parse error: the body is not valid UTF-8', -32700);
  const text = bytes.toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new HttpError(400, `Parse error: ${(error as Error).message}`, -32700);
  }
}

/** What reading a request that closed before its end throws, as a stream's async iterator would. */
function prematureClose(): Error {
  return Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
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
