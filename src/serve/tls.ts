import { readFile } from 'node:fs/promises';

import type { GatewayConfig } from '../config/model.js';
import { GatewayError } from '../errors.js';

/** A certificate (chain) and its private key, PEM. */
export interface TlsFiles {
  cert: Buffer;
  key: Buffer;
}

/**
 * Reads the files of the config's `tls` block, or undefined without one. A missing or unreadable file is a
 * CONFIG_INVALID error naming the file (never its content).
 *
 * @example const tls = await readTlsFiles(config); new GatewayHttpServer(gateway, { host, port, tls });
 */
export async function readTlsFiles(config: GatewayConfig): Promise<TlsFiles | undefined> {
  if (!config.tls) return undefined;
  const { certPath, keyPath } = config.tls;
  const read = async (field: string, path: string): Promise<Buffer> => {
    try {
      return await readFile(path);
    } catch (error) {
      const code = (error as { code?: string }).code ?? 'unreadable';
      throw new GatewayError('CONFIG_INVALID', `tls.${field}: cannot read ${path} (${code})`, { cause: error });
    }
  };
  const [cert, key] = await Promise.all([read('cert', certPath), read('key', keyPath)]);
  return { cert, key };
}
