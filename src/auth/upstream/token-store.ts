import {
  closeSync,
  type FSWatcher,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  watch,
} from 'node:fs';
import { mkdir, open, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';

import type { GatewayConfig } from '../../config/model.js';
import { isGatewayError } from '../../errors.js';
import { seal, unseal } from './token-key.js';

/** One entry as the file keeps it: sealed with the key, or a deletion (so a merge does not bring it back). */
interface StoredEntry {
  /** Wall-clock ms of the last change, to merge with what another process wrote. */
  updated: number;
  sealed?: string;
}

interface StateFile {
  version: 1;
  entries: Record<string, StoredEntry>;
}

export interface TokenStoreOptions {
  path: string;
  /** The encryption key; throws the error that says how to set it when it is missing. */
  key: () => Buffer;
  onError: (error: Error) => void;
  /** Keys whose entries another process changed (seen when the file is read again). */
  onExternalChange?: (keys: string[]) => void;
}

/** The state file's name beside the config when `upstream_oauth.state_file` does not say. */
export const DEFAULT_STATE_FILE = 'upstream-tokens.json';

/** Where a config keeps its upstream sign-ins. */
export function stateFileOf(config: GatewayConfig): string {
  const configured = config.upstreamOAuth?.stateFile;
  if (configured !== undefined) return configured;
  return resolve(config.source.path === undefined ? '.' : dirname(config.source.path), DEFAULT_STATE_FILE);
}

const LOCK_ATTEMPTS = 100;
const LOCK_RETRY_MS = 20;
/** A lock older than this was left by a process that died while writing. */
const STALE_LOCK_MS = 10_000;
const TOMBSTONE_TTL_MS = 30 * 24 * 3_600_000;
const WATCH_DEBOUNCE_MS = 50;

/**
 * The state file of upstream sign-ins: tokens per server and account, registered clients, discovery results.
 * Every value is sealed on its own (AES-256-GCM, its key as associated data), so the file holds no secret in
 * clear, and entries written by another process (`mcproxy login` beside a running gateway) merge entry by entry:
 * a save reads the file under a lock file, keeps whichever side changed each entry last, and renames a new
 * file into place (mode 0600). `reload()` reads the file again when it changed on disk.
 *
 * @example store.set(tokensKey('github', 'gateway'), entry); store.get<TokenEntry>(tokensKey('github', 'gateway'));
 */
export class TokenStore {
  private readonly entries = new Map<string, StoredEntry>();
  private readonly opened = new Map<string, unknown>();
  private readonly unreadable = new Set<string>();
  private stamp?: string;
  private loaded = false;
  private watcher?: FSWatcher | 'off';
  private saving: Promise<void> = Promise.resolve();

  constructor(private readonly options: TokenStoreOptions) {}

  get path(): string {
    return this.options.path;
  }

  /** Whether an entry exists, without opening it (no key needed). */
  has(key: string): boolean {
    this.load();
    return this.entries.get(key)?.sealed !== undefined;
  }

  /** The entry's value; undefined when absent or sealed with another key (reported once). */
  get<T>(key: string): T | undefined {
    this.load();
    const entry = this.entries.get(key);
    if (entry?.sealed === undefined) return undefined;
    if (this.opened.has(key)) return this.opened.get(key) as T;
    let value: T;
    try {
      value = JSON.parse(unseal(this.options.key(), key, entry.sealed)) as T;
    } catch (error) {
      if (isGatewayError(error)) throw error;
      if (!this.unreadable.has(key)) {
        this.unreadable.add(key);
        this.options.onError(
          new Error(`${this.path}: an entry cannot be decrypted (written with another MCPROXY_TOKEN_KEY?)`),
        );
      }
      return undefined;
    }
    this.opened.set(key, value);
    return value;
  }

  /** Sets (or, with undefined, deletes) an entry and saves the file in the background. */
  set(key: string, value: unknown): void {
    this.load();
    const previous = this.entries.get(key);
    if (value === undefined && previous?.sealed === undefined) return;
    const updated = Math.max(Date.now(), (previous?.updated ?? 0) + 1);
    const sealed = value === undefined ? undefined : seal(this.options.key(), key, JSON.stringify(value));
    this.entries.set(key, sealed === undefined ? { updated } : { updated, sealed });
    this.unreadable.delete(key);
    if (value === undefined) this.opened.delete(key);
    else this.opened.set(key, value);
    this.save();
  }

  /** Keys that start with `prefix`, of entries that exist. */
  keys(prefix: string): string[] {
    this.load();
    return [...this.entries].filter(([key, entry]) => key.startsWith(prefix) && entry.sealed).map(([key]) => key);
  }

  /**
   * Reads the file again if it changed on disk; returns the keys another process changed. Synchronous. The
   * first call also starts watching the file, so that a sign-in by another process is noticed without one.
   */
  reload(): string[] {
    this.watcher ??= this.watch() ?? 'off';
    if (!this.loaded) {
      this.load();
      return [];
    }
    let stamp: string | undefined;
    try {
      stamp = stampOf(statSync(this.path));
    } catch {
      return [];
    }
    if (stamp === this.stamp) return [];
    return this.merge(this.readSync(), stamp, true);
  }

  /** Waits for pending writes and stops watching. */
  async close(): Promise<void> {
    if (this.watcher !== undefined && this.watcher !== 'off') this.watcher.close();
    this.watcher = 'off';
    await this.saving;
  }

  /**
   * Reads the file again whenever it is replaced (another process signed in). Creates the file's folder to
   * watch it; undefined when that fails (`reload()` on a miss still helps).
   */
  private watch(): FSWatcher | undefined {
    let timer: NodeJS.Timeout | undefined;
    try {
      mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
      const watcher = watch(dirname(this.path), { persistent: false }, (_event, name) => {
        if (name !== basename(this.path) || timer) return;
        timer = setTimeout(() => {
          timer = undefined;
          this.reload();
        }, WATCH_DEBOUNCE_MS);
        timer.unref();
      });
      watcher.on('error', () => watcher.close());
      return watcher;
    } catch {
      return undefined;
    }
  }

  /** Waits for pending writes. */
  flush(): Promise<void> {
    return this.saving;
  }

  private load(): void {
    if (this.loaded) return;
    this.loaded = true;
    let stamp: string | undefined;
    try {
      stamp = stampOf(statSync(this.path));
    } catch {
      return;
    }
    this.merge(this.readSync(), stamp, false);
  }

  private readSync(): StateFile | undefined {
    try {
      return parseState(readFileSync(this.path, 'utf8'), this.path);
    } catch (error) {
      if (error instanceof CorruptStateFile) this.setAsideSync();
      else if ((error as NodeJS.ErrnoException).code !== 'ENOENT') this.options.onError(error as Error);
      return undefined;
    }
  }

  /**
   * Moves a state file that is not JSON aside, under the lock; when a save of another process holds it, that
   * save finds the file corrupt and moves it itself.
   */
  private setAsideSync(): void {
    const lock = `${this.path}.lock`;
    try {
      closeSync(openSync(lock, 'wx', 0o600));
    } catch {
      return;
    }
    try {
      // Read again under the lock: another process may have just put a good file in its place.
      parseState(readFileSync(this.path, 'utf8'), this.path);
    } catch (error) {
      if (error instanceof CorruptStateFile) {
        const aside = asideName(this.path);
        try {
          renameSync(this.path, aside);
          this.reportAside(error, aside);
        } catch (failure) {
          this.options.onError(failure as Error);
        }
      }
    } finally {
      try {
        unlinkSync(lock);
      } catch {
        // Gone already.
      }
    }
  }

  private reportAside(error: CorruptStateFile, aside: string): void {
    this.options.onError(
      new Error(
        `${this.path} is not valid JSON (${error.message}): moved it to ${aside}; its sign-ins must be made again`,
      ),
    );
  }

  /** Takes every entry the file changed after we did; returns their keys. */
  private merge(file: StateFile | undefined, stamp: string | undefined, notify: boolean): string[] {
    if (stamp !== undefined) this.stamp = stamp;
    const changed: string[] = [];
    for (const [key, entry] of Object.entries(file?.entries ?? {})) {
      if (entry.updated <= (this.entries.get(key)?.updated ?? -1)) continue;
      this.entries.set(key, entry);
      this.opened.delete(key);
      this.unreadable.delete(key);
      changed.push(key);
    }
    if (changed.length > 0 && notify) this.options.onExternalChange?.(changed);
    return changed;
  }

  private save(): void {
    this.saving = this.saving
      .then(() => this.write())
      .catch((error: unknown) => this.options.onError(new Error(`cannot save ${this.path}: ${String(error)}`)));
  }

  private async write(): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    await withLock(`${this.path}.lock`, async () => {
      const text = await readFile(this.path, 'utf8').catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return undefined;
        throw error;
      });
      let file: StateFile | undefined;
      try {
        file = text === undefined ? undefined : parseState(text, this.path);
      } catch (error) {
        // Else every save from now on would fail on it.
        if (!(error instanceof CorruptStateFile)) throw error;
        const aside = asideName(this.path);
        await rename(this.path, aside);
        this.reportAside(error, aside);
      }
      this.merge(file, undefined, true);
      const cutoff = Date.now() - TOMBSTONE_TTL_MS;
      const entries: Record<string, StoredEntry> = {};
      for (const [key, entry] of this.entries) if (entry.sealed || entry.updated > cutoff) entries[key] = entry;
      const state: StateFile = { version: 1, entries };
      const temporary = `${this.path}.${process.pid}.tmp`;
      await writeFile(temporary, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
      await rename(temporary, this.path);
      this.stamp = stampOf(await stat(this.path));
    });
  }
}

/** A state file that is not JSON (cut short by a full disk, or edited by hand). */
class CorruptStateFile extends Error {}

function parseState(text: string, path: string): StateFile {
  let state: Partial<StateFile>;
  try {
    state = JSON.parse(text) as Partial<StateFile>;
  } catch (error) {
    throw new CorruptStateFile((error as Error).message);
  }
  if (state.version !== 1 || typeof state.entries !== 'object' || state.entries === null) {
    throw new Error(`${path} is not an mcproxy upstream sign-in file`);
  }
  return state as StateFile;
}

/** Where a corrupt state file is moved: beside it, named after the time, so nothing is overwritten. */
function asideName(path: string): string {
  return `${path}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
}

function stampOf(stats: { mtimeMs: number; size: number; ino: number }): string {
  return `${stats.ino}:${stats.mtimeMs}:${stats.size}`;
}

/** Runs `work` holding an exclusive lock file (created with O_EXCL), so two processes never interleave a save. */
async function withLock(path: string, work: () => Promise<void>): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await (await open(path, 'wx', 0o600)).close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= LOCK_ATTEMPTS) throw error;
      const age = await stat(path).then(
        (stats) => Date.now() - stats.mtimeMs,
        () => 0,
      );
      if (age > STALE_LOCK_MS) await unlink(path).catch(() => {});
      else await new Promise((resolve) => setTimeout(resolve, LOCK_RETRY_MS));
    }
  }
  try {
    await work();
  } finally {
    await unlink(path).catch(() => {});
  }
}

/** Keys of the entries: tokens per server and account, clients per server and slot, discovery per server. */
export function tokensKey(server: string, account: string): string {
  return `tokens/${encodeURIComponent(server)}/${encodeURIComponent(account)}`;
}

export function clientKey(server: string, slot: string): string {
  return `client/${encodeURIComponent(server)}/${encodeURIComponent(slot)}`;
}

export function discoveryKey(server: string): string {
  return `discovery/${encodeURIComponent(server)}`;
}

/** The server and account of a tokens key, or undefined for another kind of key. */
export function parseTokensKey(key: string): { server: string; account: string } | undefined {
  const [kind, server, account] = key.split('/');
  if (kind !== 'tokens' || server === undefined || account === undefined) return undefined;
  return { server: decodeURIComponent(server), account: decodeURIComponent(account) };
}
