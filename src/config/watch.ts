import { stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

import { type FSWatcher, watch } from 'chokidar';

import { errorMessage } from '../errors.js';
import type { Logger } from '../observability/log.js';

export const DEFAULT_WATCH_DEBOUNCE_MS = 150;
export const DEFAULT_WATCH_POLL_INTERVAL_MS = 1_000;

export interface ConfigWatcherOptions {
  /** The files to watch: the config and its `.env`. They need not exist yet. */
  files: readonly string[];
  /** Called once per burst of changes, `debounceMs` after the last one, with the file that changed last. */
  onChange(file: string): void;
  debounceMs?: number;
  /** Interval of the stat loop that backs up the file-system events (`--reload-interval`). */
  pollIntervalMs?: number;
  /** Use file-system events besides the stat loop (true); false leaves polling alone, as on a network mount. */
  events?: boolean;
  log?: Logger;
}

/**
 * Watches a config file and its `.env`. File-system events (chokidar on the files' directories, since editors
 * save by writing a new file and renaming it over the old one) are backed up by a stat loop at
 * `pollIntervalMs`, which also covers file systems without events (network mounts, some containers).
 * A burst of changes is debounced into one `onChange`.
 */
export class ConfigWatcher {
  private readonly files: Set<string>;
  private readonly debounceMs: number;
  private readonly pollIntervalMs: number;
  private watcher?: FSWatcher;
  private pollTimer?: NodeJS.Timeout;
  private debounceTimer?: NodeJS.Timeout;
  private signatures = new Map<string, string>();
  private polling = false;
  private closed = false;
  private lastChanged = '';
  private starting?: Promise<void>;
  private closing?: Promise<void>;

  constructor(private readonly options: ConfigWatcherOptions) {
    this.files = new Set(options.files.map((file) => resolve(file)));
    this.debounceMs = options.debounceMs ?? DEFAULT_WATCH_DEBOUNCE_MS;
    this.pollIntervalMs = options.pollIntervalMs ?? DEFAULT_WATCH_POLL_INTERVAL_MS;
  }

  /** Resolves once both the events and the stat loop are armed. Idempotent. */
  start(): Promise<void> {
    this.starting ??= this.arm();
    return this.starting;
  }

  /** Stops watching; a pending debounced change is dropped. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true;
      if (this.debounceTimer) clearTimeout(this.debounceTimer);
      if (this.pollTimer) clearInterval(this.pollTimer);
      await this.starting?.catch(() => {});
      await this.watcher?.close().catch(() => {});
    })();
    return this.closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private async arm(): Promise<void> {
    for (const file of this.files) this.signatures.set(file, await signature(file));
    if (this.closed) return;
    this.pollTimer = setInterval(() => void this.poll(), this.pollIntervalMs);
    this.pollTimer.unref();
    if (this.options.events === false) return;

    const directories = [...new Set([...this.files].map((file) => dirname(file)))];
    const watcher = watch(directories, {
      ignoreInitial: true,
      depth: 0,
      // Only the watched files themselves, never the rest of the directory (node_modules next to a config...).
      ignored: (path) => !directories.includes(resolve(path)) && !this.files.has(resolve(path)),
    });
    this.watcher = watcher;
    const onEvent = (path: string) => {
      const file = resolve(path);
      if (this.files.has(file)) this.changed(file);
    };
    watcher.on('add', onEvent).on('change', onEvent).on('unlink', onEvent);
    watcher.on('error', (error) => {
      // The stat loop still sees changes; say why events stopped (e.g. the inotify watch limit).
      this.options.log?.warn(`watching ${directories.join(', ')} failed (${errorMessage(error)}); polling instead`);
    });
    await new Promise<void>((ready) => {
      watcher.once('ready', ready);
      watcher.once('error', () => ready());
    });
  }

  private async poll(): Promise<void> {
    // A pending burst is settled by its own timer, which reads the files again.
    if (this.polling || this.closed || this.debounceTimer) return;
    this.polling = true;
    try {
      for (const file of this.files) {
        const now = await signature(file);
        if (now !== this.signatures.get(file)) this.changed(file);
      }
    } finally {
      this.polling = false;
    }
  }

  private changed(file: string): void {
    if (this.closed) return;
    this.lastChanged = file;
    if (this.debounceTimer) clearTimeout(this.debounceTimer);
    const timer = setTimeout(() => void this.settle(timer), this.debounceMs);
    timer.unref();
    this.debounceTimer = timer;
  }

  /**
   * The end of a burst: reads every file again and reports one change if any differs from what was last
   * reported. Reading here, not at each event, means a late event or a stat that saw a write half done cannot
   * make the same burst count twice.
   */
  private async settle(timer: NodeJS.Timeout): Promise<void> {
    const differing: string[] = [];
    for (const file of this.files) {
      const now = await signature(file);
      if (now !== this.signatures.get(file)) differing.push(file);
      this.signatures.set(file, now);
    }
    if (this.debounceTimer === timer) this.debounceTimer = undefined;
    if (this.closed || differing.length === 0) return;
    this.options.onChange(differing.includes(this.lastChanged) ? this.lastChanged : differing[0]!);
  }
}

/**
 * Creates and starts a watcher.
 *
 * @example
 * const watcher = await watchConfigFiles({ files: [path, envFilePath(path)], onChange: () => void reload() });
 */
export async function watchConfigFiles(options: ConfigWatcherOptions): Promise<ConfigWatcher> {
  const watcher = new ConfigWatcher(options);
  await watcher.start();
  return watcher;
}

/** What the stat loop compares: changes of content show in mtime or size, a rename over the file in the inode. */
async function signature(file: string): Promise<string> {
  try {
    const stats = await stat(file, { bigint: true });
    return `${stats.ino}:${stats.size}:${stats.mtimeNs}`;
  } catch {
    return 'missing';
  }
}
