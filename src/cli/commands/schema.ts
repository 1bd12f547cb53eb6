import { configJsonSchema } from '../../config/json-schema.js';

/**
 * `mcproxy schema`: prints the config file's JSON Schema. `out` receives whole text ending in a newline,
 * for `process.stdout.write`.
 *
 * @example process.exitCode = runSchemaCommand((text) => process.stdout.write(text));
 */
export function runSchemaCommand(out: (text: string) => void): number {
  out(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
  return 0;
}
