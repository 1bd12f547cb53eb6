import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

import { parse as parseDotenv } from 'dotenv';

import { envFilePath, parseConfigText } from '../config/load.js';
import type { GatewayConfig } from '../config/model.js';
import { ConfigWatcher, DEFAULT_WATCH_DEBOUNCE_MS } from '../config/watch.js';
import { errorMessage } from '../errors.js';
import type { Gateway } from '../gateway.js';
import type { Logger } from '../observability/log.js';
import { describeReload, isEmptyReport, type ReloadReport } from './report.js';

/** A file is read again after this long; a reload goes ahead once two reads agree (a save may be in progress). */
export const SETTLE_READ_MS = 100;
const MAX_SETTLE_READS = 20;

export interface ConfigReloaderOptions {
  configPath: string;
  /** Watch the config and its `.env` (false with `--no-reload`; `reloadNow()`, i.e. SIGHUP, still works). */
  watch: boolean;
  /** Interval of the stat loop behind the file-system events (`--reload-interval`). */
  intervalMs: number;
  log: Logger;
  debounceMs?: number;
  /** Applied to every loaded config before it is applied, e.g. the `--mode` override of the command line. */
  transform?: (config: GatewayConfig) => GatewayConfig;
  /** Loads what the new config needs before it is applied (Code Mode's modules, when it turns Code Mode on). */
  prepare?: (config: GatewayConfig) => Promise<void>;
  /** Called after each applied reload (tests, metrics). */
  onReload?: (report: ReloadReport) => void;
  /** Called for each rejected reload (the running config stayed in force), with what was wrong. */
  onReloadFailed?: (reason: string, message: string) => void;
}

export interface ConfigReloader {
  /** Reloads now, even if the files look unchanged (SIGHUP). Resolves when this reload, and any queued, is done. */
  reloadNow(reason: string): Promise<void>;
  /** Stops watching and waits for a reload in progress. Idempotent. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Keeps a running gateway in line with its config file: watches the file and its `.env` (debounced, backed
 * by polling), and on a change loads, validates and applies it with `gateway.applyConfig()`. One reload runs
 * at a time; a change that arrives meanwhile runs one more afterwards. An invalid file leaves the running
 * config in force and logs every problem with its file, line and field path.
 *
 * On start it reconciles once, so an edit made while the servers were starting is not lost.
 *
 * @example
 * const reloader = await startConfigReloader(gateway, { configPath, watch: true, intervalMs: 1000, log });
 * process.on('SIGHUP', () => void reloader.reloadNow('SIGHUP'));
 */
export async function startConfigReloader(gateway: Gateway, options: ConfigReloaderOptions): Promise<ConfigReloader> {
  const { configPath, log } = options;
  let running: Promise<void> | undefined;
  let queued = false;
  let queuedForce = false;
  let closed = false;
  /** The texts of the config and `.env` last loaded, so a change seen twice (event and poll) is applied once. */
  let lastKey: string | undefined;

  async function reloadOnce(reason: string, force: boolean): Promise<void> {
    const texts = await readSettled(configPath);
    if (!force && texts.key === lastKey) return;
    lastKey = texts.key;
    const failed = (what: string, detail: string) => {
      log.error(`Config reload (${reason}) failed, ${what}; the running config stays in force:\n${detail}`);
      options.onReloadFailed?.(reason, `${what}: ${detail}`);
    };
    if (texts.config === undefined) return failed('the config file is missing', `not found: ${configPath}`);
    let next: GatewayConfig;
    try {
      // The settled texts themselves, not a fresh read that could catch the next save half-way.
      const envFile = texts.env === undefined ? {} : parseDotenv(texts.env);
      next = parseConfigText(texts.config, { path: configPath, env: process.env, envFile });
    } catch (error) {
      return failed('the config is invalid', errorMessage(error));
    }
    const config = options.transform ? options.transform(next) : next;
    await options.prepare?.(config);
    const report = await gateway.applyConfig(config);
    if (!isEmptyReport(report)) log.info(`Config reloaded: ${describeReload(report)}`);
    else if (force) log.info(`Config reloaded (${reason}): no changes`);
    else log.debug(`Config reloaded (${reason}): no changes`);
    options.onReload?.(report);
  }

  function reload(reason: string, force: boolean): Promise<void> {
    if (closed) return Promise.resolve();
    if (running) {
      queued = true;
      queuedForce ||= force;
      return running;
    }
    running = (async () => {
      let current = { reason, force };
      for (;;) {
        await reloadOnce(current.reason, current.force).catch((error: unknown) => {
          log.error(`Config reload (${current.reason}) failed: ${errorMessage(error)}`);
          options.onReloadFailed?.(current.reason, errorMessage(error));
        });
        if (!queued || closed) break;
        current = { reason: 'changed during the last reload', force: queuedForce };
        queued = false;
        queuedForce = false;
      }
    })().finally(() => {
      running = undefined;
    });
    return running;
  }

  const watcher = options.watch
    ? new ConfigWatcher({
        files: [configPath, envFilePath(configPath)],
        onChange: () => void reload('file changed', false),
        debounceMs: options.debounceMs ?? DEFAULT_WATCH_DEBOUNCE_MS,
        pollIntervalMs: options.intervalMs,
        log,
      })
    : undefined;
  await watcher?.start();
  await reload('start-up check', false);
  if (watcher) log.info(`Watching ${configPath} and its .env for changes (SIGHUP reloads too)`);
  else log.info('Config reload on SIGHUP only (--no-reload)');

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      closed = true;
      await watcher?.close();
      await running;
    })());
  return {
    reloadNow: (reason) => reload(reason, true),
    close,
    [Symbol.asyncDispose]: close,
  };
}

/**
 * The texts once they stop changing. An editor that writes in place truncates the file first: read at the wrong
 * moment it is empty (a valid, empty config, which would remove every server) or cut off mid-string.
 */
async function readSettled(configPath: string): Promise<ConfigTexts> {
  let texts = await readTexts(configPath);
  for (let read = 0; read < MAX_SETTLE_READS; read++) {
    await sleep(SETTLE_READ_MS);
    const again = await readTexts(configPath);
    if (again.key === texts.key) break;
    texts = again;
  }
  return texts;
}

interface ConfigTexts {
  /** Undefined when the file does not exist (or cannot be read). */
  config?: string;
  env?: string;
  key: string;
}

async function readTexts(configPath: string): Promise<ConfigTexts> {
  const read = (path: string) => readFile(path, 'utf8').catch(() => undefined);
  const [config, env] = await Promise.all([read(configPath), read(envFilePath(configPath))]);
  return { config, env, key: JSON.stringify([config, env]) };
}
