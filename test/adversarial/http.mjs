// A bare HTTP client for the suite: every exchange has a deadline, and every answer is judged by one rule.
import { Agent, request } from 'node:http';

export const EXCHANGE_TIMEOUT_MS = 10_000;
export const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/**
 * One HTTP exchange, read to its end (or, for a GET that opens a stream, to its first bytes).
 * @returns {Promise<{ status: number, headers: object, body: string, outcome: 'answered' | 'hang' | 'reset' }>}
 */
export function exchange(
  baseUrl,
  { method = 'POST', path = '/mcp', headers = {}, body, timeoutMs = EXCHANGE_TIMEOUT_MS },
) {
  const target = new URL(baseUrl);
  return new Promise((resolve) => {
    let settled = false;
    const done = (result) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const req = request({ hostname: target.hostname, port: target.port, path, method, headers, agent }, (res) => {
      const chunks = [];
      const answer = () => ({
        status: res.statusCode,
        headers: res.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      const stream = method === 'GET' && String(res.headers['content-type']).startsWith('text/event-stream');
      res.on('data', (chunk) => {
        chunks.push(chunk);
        // A stream the client asked for stays open by design: its first bytes are the answer.
        if (stream) {
          done({ ...answer(), outcome: 'answered' });
          req.destroy();
        }
      });
      res.on('end', () => done({ ...answer(), outcome: 'answered' }));
      res.on('error', () => done({ ...answer(), outcome: 'reset' }));
      if (stream && res.statusCode === 200) {
        done({ ...answer(), outcome: 'answered' });
        req.destroy();
      }
    });
    const timer = setTimeout(() => {
      req.destroy();
      done({ status: 0, headers: {}, body: '', outcome: 'hang' });
    }, timeoutMs);
    req.on('error', () => done({ status: 0, headers: {}, body: '', outcome: 'reset' }));
    req.end(body);
  });
}

function isJsonRpcMessage(value) {
  if (typeof value !== 'object' || value === null || value.jsonrpc !== '2.0') return false;
  if ('error' in value) return typeof value.error?.code === 'number' && typeof value.error?.message === 'string';
  return 'result' in value || 'method' in value;
}

/** Whether a body is JSON-RPC: one message, a batch of them, or an SSE stream of them. */
export function isJsonRpcBody(contentType, body) {
  try {
    if (String(contentType).startsWith('text/event-stream')) {
      const data = body.split('\n').filter((line) => line.startsWith('data: ') && line.length > 6);
      return data.every((line) => isJsonRpcMessage(JSON.parse(line.slice(6))));
    }
    const value = JSON.parse(body);
    return Array.isArray(value) ? value.length > 0 && value.every(isJsonRpcMessage) : isJsonRpcMessage(value);
  } catch {
    return false;
  }
}

/**
 * The verdict on one answer: contained (answered, with a JSON-RPC body whenever there is an error or a result)
 * or why not. 503 is a refusal the gateway means (its session limit), not a failure.
 */
export function judge(result) {
  if (result.outcome !== 'answered') return result.outcome;
  const { status, headers, body } = result;
  if (status === 202 || status === 204 || (status < 300 && body === '')) return 'contained';
  if (status >= 500 && status !== 503) return `HTTP ${status}`;
  if (!isJsonRpcBody(headers['content-type'], body))
    return status >= 400 ? 'non-JSON-RPC error body' : 'non-JSON-RPC body';
  return 'contained';
}
