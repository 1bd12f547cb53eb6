// Copies the files that tsc does not emit (the console's page script and stylesheet) into dist/.
import { cpSync } from 'node:fs';

cpSync(new URL('../src/console/assets', import.meta.url), new URL('../dist/console/assets', import.meta.url), {
  recursive: true,
});
