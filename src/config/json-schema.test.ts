import { describe, expect, it } from 'vitest';

import { configJsonSchema } from './json-schema.js';

describe('configJsonSchema', () => {
  const schema = configJsonSchema() as {
    $schema: string;
    title: string;
    properties: Record<string, { properties?: unknown; additionalProperties?: unknown; description?: string }>;
    additionalProperties: unknown;
  };

  it('describes every top-level section, closed to unknown keys', () => {
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(schema.title).toBe('mcproxy configuration');
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining(['servers', 'mcpServers', 'mode', 'namespaces', 'sandbox', 'manifests', 'restart']),
    );
    expect(schema.additionalProperties).toBe(false);
  });

  it('carries the descriptions and the server fields', () => {
    const text = JSON.stringify(schema);
    expect(schema.properties['mcpServers']?.description).toContain('Claude Desktop');
    for (const field of ['command', 'args', 'env', 'url', 'headers', 'tool_timeout', 'idle_timeout']) {
      expect(text).toContain(`"${field}"`);
    }
  });
});
