// Writes config/mcp-servers.schema.json from the built validator (run `npm run build` first), so the
// checked-in JSON Schema can be compared in CI with `git diff --exit-code`. Formatted with the project's
// Prettier config, so that `npm run format` leaves the file as generated.
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

import { format, resolveConfig } from 'prettier';

import { configJsonSchema } from '../dist/config/json-schema.js';

const target = fileURLToPath(new URL('../config/mcp-servers.schema.json', import.meta.url));
const options = { ...(await resolveConfig(target)), filepath: target };
await writeFile(target, await format(JSON.stringify(configJsonSchema()), options));
