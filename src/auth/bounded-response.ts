/** The most an authorization server's answer may hold: metadata, key sets, tokens and registrations take a few KB. */
export const MAX_OAUTH_RESPONSE_BYTES = 1024 * 1024;

/**
 * The response with a body that fails once it passes `maxBytes` (whatever Content-Length said), so that a
 * hostile or broken authorization server cannot fill the gateway's memory with one endless metadata document,
 * key set or token answer. Throws at once when Content-Length already says more.
 *
 * @example const metadata = await boundedResponse(await fetch(url)).json();
 */
export function boundedResponse(response: Response, maxBytes: number = MAX_OAUTH_RESPONSE_BYTES): Response {
  const tooLarge = () => {
    const at = new URL(response.url || 'about:blank');
    return new Error(`the answer of ${at.origin}${at.pathname} is larger than ${maxBytes} bytes`);
  };
  if (Number(response.headers.get('content-length') ?? 0) > maxBytes) {
    response.body?.cancel().catch(() => {});
    throw tooLarge();
  }
  if (response.body === null) return response;
  let seen = 0;
  const body = response.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        seen += chunk.byteLength;
        if (seen > maxBytes) controller.error(tooLarge());
        else controller.enqueue(chunk);
      },
    }),
  );
  const bounded = new Response(body, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
  // Redirect handling and error messages read the URL the answer came from.
  Object.defineProperty(bounded, 'url', { value: response.url });
  return bounded;
}

/** fetch whose answers are bounded as `boundedResponse` bounds them. */
export async function boundedFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  return boundedResponse(await fetch(input, init));
}
