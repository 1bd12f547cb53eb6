import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import type { CatalogTool } from '../catalog/types.js';
import { generateCatalogDeclarations } from './typegen.js';

/**
 * Writes TypeScript declarations for the whole catalog to `outDir/index.d.ts` (one file: every server's
 * interface plus the `api` global), creating the folder. Returns the paths written.
 *
 * @example
 * await writeStubs(catalog.tools, './stubs'); // ['stubs/index.d.ts']
 */
export async function writeStubs(tools: CatalogTool[], outDir: string): Promise<string[]> {
  await mkdir(outDir, { recursive: true });
  const path = join(outDir, 'index.d.ts');
  await writeFile(path, generateCatalogDeclarations(tools), 'utf8');
  return [path];
}
