import { readFile } from 'node:fs/promises';

/**
 * Appends each complete line of `stream` to `lines` (live), calling `onLine` for each; flushes the last
 * partial line at end.
 * @example
 *   const stderr: string[] = [];
 *   collectLines(child.stderr, stderr);
 */
export function collectLines(
  stream: NodeJS.ReadableStream | null | undefined,
  lines: string[],
  onLine?: (line: string) => void,
): void {
  if (!stream) return;
  let partial = '';
  const push = (line: string) => {
    lines.push(line);
    onLine?.(line);
  };
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    for (const part of parts) push(part.replace(/\r$/, ''));
  });
  stream.on('end', () => {
    if (partial) push(partial);
    partial = '';
  });
}

/** The JSON lines of a file (an audit log), parsed; none when the file does not exist yet. */
export async function readJsonLines(path: string): Promise<Record<string, unknown>[]> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
