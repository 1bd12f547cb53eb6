// Writes docs/config-reference.md from the built schema (run `npm run build` first). A test fails when the
// checked-in file differs from what this writes, so the reference cannot go stale.
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

import { renderConfigReference } from '../dist/config/reference.js';

const target = fileURLToPath(new URL('../docs/config-reference.md', import.meta.url));
await writeFile(target, renderConfigReference());
