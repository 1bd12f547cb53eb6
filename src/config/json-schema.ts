import { z } from 'zod';

import { ConfigFileSchema } from './schema.js';

/**
 * The JSON Schema of the config file, generated from the zod schema the loader validates with, so the two
 * cannot drift. Draft-07, because it is the draft editors' JSON and YAML language servers support best;
 * `io: 'input'` describes what a user writes (optional fields stay optional).
 *
 * @example writeFileSync('config/mcp-servers.schema.json', JSON.stringify(configJsonSchema(), null, 2));
 */
export function configJsonSchema(): Record<string, unknown> {
  const { $schema, ...rest } = z.toJSONSchema(ConfigFileSchema, { io: 'input', target: 'draft-07' });
  return { $schema, title: 'mcproxy configuration', ...rest };
}
