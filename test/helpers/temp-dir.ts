import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface TempDirWriteOptions {
  /** Write to a sibling file and rename it into place (how many editors save). Default false. */
  atomic?: boolean;
}

export interface TempDir {
  readonly path: string;
  /** Writes `content` (objects as pretty JSON) to `name` under the dir, creating folders; returns the path. */
  write(name: string, content: string | object, options?: TempDirWriteOptions): Promise<string>;
  read(name: string): Promise<string>;
  /** Absolute path of `name` inside the dir. */
  resolve(name: string): string;
  [Symbol.asyncDispose](): Promise<void>;
}

let atomicCounter = 0;

/**
 * Creates a fresh directory under the OS temp dir, removed on dispose.
 * @example
 *   await using dir = await createTempDir();
 *   const configPath = await dir.write('mcp.json', { mcpServers: {} });
 */
export async function createTempDir(prefix = 'mcproxy-test-'): Promise<TempDir> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  const resolve = (name: string) => join(path, name);
  return {
    path,
    resolve,
    async write(name, content, { atomic = false } = {}) {
      const target = resolve(name);
      await mkdir(dirname(target), { recursive: true });
      const data = typeof content === 'string' ? content : `${JSON.stringify(content, null, 2)}\n`;
      if (!atomic) {
        await writeFile(target, data);
      } else {
        const staging = `${target}.${process.pid}.${++atomicCounter}.tmp`;
        await writeFile(staging, data);
        await rename(staging, target);
      }
      return target;
    },
    read: (name) => readFile(resolve(name), 'utf8'),
    async [Symbol.asyncDispose]() {
      await rm(path, { recursive: true, force: true, maxRetries: 3 });
    },
  };
}
