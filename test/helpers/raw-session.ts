/**
 * A legacy-era session on a Streamable HTTP endpoint opened by hand (initialize, then initialized), for tests
 * that read the raw SSE: returns the headers its later requests need.
 * @example const headers = await openRawSession(`${gateway.url}/mcp`, '2025-11-25');
 */
export async function openRawSession(
  url: string,
  version: string,
  client = 'raw-client',
): Promise<Record<string, string>> {
  const base = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  const init = await fetch(url, {
    method: 'POST',
    headers: base,
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: version, capabilities: {}, clientInfo: { name: client, version: '0' } },
    }),
  });
  const headers = { ...base, 'mcp-session-id': init.headers.get('mcp-session-id')!, 'mcp-protocol-version': version };
  await init.body?.cancel();
  await fetch(url, {
    method: 'POST',
    headers,
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
  }).then((response) => response.body?.cancel());
  return headers;
}
