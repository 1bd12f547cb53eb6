import { createRequire } from 'node:module';

import type * as Yaml from 'yaml';

type YamlModule = typeof Yaml;

let loaded: YamlModule | undefined;

/**
 * The YAML parser, loaded on first use (issue 15): a JSON config never needs it, and it is ~70 modules. `yaml` is
 * CommonJS on Node, so a synchronous require keeps config parsing synchronous.
 */
export function yamlParser(): YamlModule {
  return (loaded ??= createRequire(import.meta.url)('yaml') as YamlModule);
}
