/** Reads a response body until its text holds `wanted` (or it ends), then stops reading; bounded by the stream. */
export async function readUntil(response: Response, wanted: string): Promise<string> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return text;
    text += decoder.decode(value, { stream: true });
    if (text.includes(wanted)) {
      await reader.cancel();
      return text;
    }
  }
}
