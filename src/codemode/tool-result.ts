import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

import { errorMessage } from '../errors.js';

/**
 * How a tool's result is handed to code in the sandbox, in order of preference:
 * 1. `structuredContent` when the tool returned it;
 * 2. else, when the content is a single text block whose text parses as JSON, the parsed value;
 * 3. else, when every block is text, the texts joined with "\n";
 * 4. else the content array as it is (images, audio, resources, links).
 *
 * @example
 * toolResultValue({ content: [{ type: 'text', text: '{"a":1}' }] }); // { a: 1 }
 */
export function toolResultValue(result: CallToolResult): unknown {
  if (result.structuredContent !== undefined) return result.structuredContent;
  const content = Array.isArray(result.content) ? result.content : [];
  const texts = content.map((block) => (block.type === 'text' ? block.text : undefined));
  if (texts.length === 1 && texts[0] !== undefined) {
    try {
      return JSON.parse(texts[0]) as unknown;
    } catch {
      return texts[0];
    }
  }
  if (texts.length > 0 && texts.every((text) => text !== undefined)) return texts.join('\n');
  return content;
}

/** The message of a result with `isError`: its text blocks, or a generic line when it has none. */
export function toolErrorMessage(result: CallToolResult): string {
  const content = Array.isArray(result.content) ? result.content : [];
  const text = content
    .map((block) => (block.type === 'text' ? block.text : ''))
    .filter((t) => t !== '')
    .join('\n');
  return text || 'the tool reported an error';
}

/** What a ToolError carries across to the guest. */
export interface ToolErrorPayload {
  name: 'ToolError';
  message: string;
  server: string;
  tool: string;
  code?: string;
}

/** An error thrown by the host while calling a tool (access, unknown tool, upstream failure). */
export function hostErrorPayload(server: string, tool: string, error: unknown): ToolErrorPayload {
  const code = (error as { code?: unknown } | null)?.code;
  return {
    name: 'ToolError',
    message: errorMessage(error),
    server,
    tool,
    ...(code === undefined ? {} : { code: String(code) }),
  };
}
