/**
 * Which of the two answers a Streamable HTTP client accepts it prefers, read from its Accept header: the higher
 * `q`, and between equal ones the type listed first (as the `negotiator` package behind Express's `req.accepts`
 * breaks ties). The SDK client, and the Inspector and mcp-remote through it, send `application/json,
 * text/event-stream`: JSON first. A client that lists `text/event-stream` first keeps getting a stream.
 *
 * @example prefersJson('application/json, text/event-stream') // true
 * @example prefersJson('text/event-stream, application/json') // false
 */
export function prefersJson(accept: string): boolean {
  const json = accept.indexOf('application/json');
  const sse = accept.indexOf('text/event-stream');
  if (json === -1 || sse === -1) return json !== -1;
  // The common header has no parameters: the order decides.
  if (!accept.includes(';')) return json < sse;
  const jsonQ = qualityOf(accept, 'application/json');
  const sseQ = qualityOf(accept, 'text/event-stream');
  return jsonQ === sseQ ? json < sse : jsonQ > sseQ;
}

/** The `q` of a media type's entry in an Accept header (1 when it has none, 0 when it cannot be read). */
function qualityOf(accept: string, type: string): number {
  for (const entry of accept.split(',')) {
    const [name, ...params] = entry.split(';');
    if (name!.trim().toLowerCase() !== type) continue;
    const q = params.map((param) => param.trim()).find((param) => param.toLowerCase().startsWith('q='));
    if (q === undefined) return 1;
    const value = Number(q.slice(2));
    return Number.isFinite(value) && value >= 0 && value <= 1 ? value : 0;
  }
  return 0;
}
