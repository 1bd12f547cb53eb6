import { type ClientRequest, request } from 'node:http';

export interface RawSseSession {
  /** The session id from the `endpoint` event. */
  readonly sessionId: string;
  /** The message path announced, e.g. `/message?sessionId=...`. */
  readonly endpoint: string;
  /** The parsed `data` of every `message` event so far; the array keeps growing. */
  readonly messages: unknown[];
  close(): void;
}

/**
 * Opens `GET <url>` as a legacy SSE stream with a bare HTTP client and collects its message events, so a test
 * sees exactly what the gateway sends on the stream.
 * @example
 *   const sse = await openRawSse(`${gateway.url}/sse`);
 *   await fetch(`${gateway.url}${sse.endpoint}`, { method: 'POST', body: '...' });
 */
export function openRawSse(url: string, headers: Record<string, string> = {}): Promise<RawSseSession> {
  const target = new URL(url);
  const messages: unknown[] = [];
  return new Promise((resolve, reject) => {
    let req: ClientRequest | undefined = undefined;
    req = request(
      {
        hostname: target.hostname,
        port: target.port,
        path: target.pathname,
        headers: { accept: 'text/event-stream', ...headers },
        // A connection of its own, as an EventSource has: never a pooled keep-alive socket that the server may be
        // closing as idle, or that a later request of the test could be queued behind.
        agent: false,
      },
      (res) => {
        if (res.statusCode !== 200) {
          reject(new Error(`GET ${url}: HTTP ${res.statusCode}`));
          res.resume();
          return;
        }
        let buffer = '';
        let announced = false;
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffer += chunk;
          let end = buffer.indexOf('\n\n');
          while (end !== -1) {
            const event = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            end = buffer.indexOf('\n\n');
            const name = /^event: (.*)$/m.exec(event)?.[1];
            const data = /^data: (.*)$/m.exec(event)?.[1];
            if (data === undefined) continue;
            if (name === 'endpoint' && !announced) {
              announced = true;
              const sessionId = new URL(data, url).searchParams.get('sessionId') ?? '';
              resolve({ sessionId, endpoint: data, messages, close: () => req?.destroy() });
            } else if (name === 'message') messages.push(JSON.parse(data));
          }
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}
