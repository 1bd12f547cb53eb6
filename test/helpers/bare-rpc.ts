/**
 * Sends one JSON-RPC request as a bare POST to `/message` (the seeds' curl shortcut) and returns the parsed
 * response body.
 * @example
 *   const answer = await bareRpc(gateway.url, 'tools/call', { name: 'ok__echo', arguments: { message: 'hi' } });
 */
export async function bareRpc(baseUrl: string, method: string, params?: Record<string, unknown>): Promise<unknown> {
  const response = await fetch(`${baseUrl}/message`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, ...(params ? { params } : {}) }),
  });
  return response.json();
}
