import { expect, it } from 'vitest';

import { runSchemaCommand } from './schema.js';

it('prints the JSON Schema, pretty, ending in a newline', () => {
  let printed = '';
  expect(runSchemaCommand((text) => (printed += text))).toBe(0);
  expect(printed.endsWith('}\n')).toBe(true);
  expect(printed).toContain('\n  "properties": {');
  expect(JSON.parse(printed)).toHaveProperty('properties.mcpServers');
});
