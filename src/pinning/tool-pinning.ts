import { createHash } from 'node:crypto';
import { type StatWatcher, unwatchFile, watchFile } from 'node:fs';
import { readFile } from 'node:fs/promises';

import type { Tool } from '@modelcontextprotocol/sdk/types.js';

import type { PinningConfig } from '../config/model.js';
import { errorMessage, GatewayError } from '../errors.js';
import type { Logger } from '../observability/log.js';
import {
  approvePin,
  formatPins,
  parsePins,
  pinKey,
  type PinRecord,
  type Pins,
  readPins,
  writePins,
} from './pin-store.js';
import { changedFields, digestOf, type PinnedDefinition, pinnedDefinition } from './tool-digest.js';

/** A tool whose listed definition differs from its pin. */
export interface ChangedTool {
  server: string;
  /** The tool's own name on its server. */
  tool: string;
  /** Pinned fields that differ (`description`, `inputSchema`…). */
  fields: string[];
  /** Hidden from clients until approved (`pinning: "strict"`). */
  withheld: boolean;
  pinned: PinnedDefinition;
  current: PinnedDefinition;
  seenAt: string;
}

export interface ToolPinningOptions {
  /** The settings in force (the gateway's config may be reloaded); `warn` in memory when absent. */
  settings: () => PinningConfig | undefined;
  log: Logger;
  /** A pin was approved (here, or by `mcproxy approve` in the file): what clients see must be rebuilt. */
  onApproved?: () => void;
  /** The set of changed tools changed: health, metrics and the console follow. */
  onChangesSeen?: () => void;
}

const SAVE_DELAY_MS = 200;
/** How often the state file is checked for approvals made by `mcproxy approve`. */
const WATCH_INTERVAL_MS = 1_000;

/**
 * Tool pinning: the definition of each tool (name, title, description, schemas, annotations) is remembered the
 * first time the catalog sees it, in a state file beside the config; a later definition that differs is
 * flagged (log, /health, metrics, console) and, with `pinning: "strict"`, withheld from clients until an admin
 * approves it. The catalog asks `admit()` for every tool it would list.
 */
export class ToolPinning {
  private pins: Pins = new Map();
  private readonly digests = new WeakMap<Tool, { digest: string; definition: PinnedDefinition }>();
  private readonly reported = new Set<string>();
  private saveTimer?: NodeJS.Timeout;
  private saving: Promise<void> = Promise.resolve();
  /** The digest of the text last written, not the text: with many servers that is hundreds of KB (issue 15). */
  private lastWritten?: string;
  private watched?: { path: string; watcher: StatWatcher };
  /** False when the state file could not be read: it is then never overwritten. */
  private writable = true;
  private loading?: Promise<void>;

  constructor(private readonly options: ToolPinningOptions) {}

  private get settings(): PinningConfig {
    return this.options.settings() ?? { mode: 'warn' };
  }

  /** Reads the state file (once) and watches it for approvals. A broken file is reported and left alone. */
  load(): Promise<void> {
    this.loading ??= (async () => {
      const path = this.settings.stateFile;
      if (this.settings.mode === 'off' || path === undefined) return;
      try {
        this.pins = await readPins(path);
      } catch (error) {
        this.writable = false;
        this.options.log.error(`tool pinning: ${errorMessage(error)}; pins are kept in memory only until it is fixed`);
      }
      this.watch(path);
    })();
    return this.loading;
  }

  /**
   * Whether the catalog may list this definition of a server's tool. A tool seen for the first time is pinned;
   * one that differs from its pin is flagged, and refused under `strict`.
   */
  admit(server: string, tool: Tool): boolean {
    const { mode } = this.settings;
    if (mode === 'off') return true;
    const { digest, definition } = this.digestOf(tool);
    const key = pinKey(server, tool.name);
    const record = this.pins.get(key);
    const now = new Date().toISOString();
    if (!record) {
      this.pins.set(key, { digest, definition, pinnedAt: now });
      this.scheduleSave();
      return true;
    }
    if (record.digest === digest) {
      if (record.changed) {
        delete record.changed;
        this.changesSeen();
      }
      return true;
    }
    if (record.changed?.digest !== digest) {
      record.changed = { digest, definition, seenAt: now };
      this.changesSeen();
    }
    this.report(server, tool.name, record, mode === 'strict');
    return mode !== 'strict';
  }

  /** Makes a changed tool's current definition its pin. Throws when there is nothing to approve. */
  approve(server: string, tool: string, by?: string): void {
    approvePin(this.pins, pinKey(server, tool));
    this.options.log.info(`tool pinning: approved the new definition of ${server}/${tool}${by ? ` (by ${by})` : ''}`);
    this.changesSeen();
    this.options.onApproved?.();
  }

  /** Tools whose listed definition differs from their pin, by server then tool. */
  changed(): ChangedTool[] {
    const withheld = this.settings.mode === 'strict';
    const list: ChangedTool[] = [];
    for (const [key, record] of this.pins) {
      if (!record.changed) continue;
      const slash = key.indexOf('/');
      list.push({
        server: key.slice(0, slash),
        tool: key.slice(slash + 1),
        fields: changedFields(record.definition, record.changed.definition),
        withheld,
        pinned: record.definition,
        current: record.changed.definition,
        seenAt: record.changed.seenAt,
      });
    }
    return list.sort((a, b) => (a.server === b.server ? (a.tool < b.tool ? -1 : 1) : a.server < b.server ? -1 : 1));
  }

  /** The names of a server's changed tools. */
  changedOf(server: string): string[] {
    return this.changed()
      .filter((entry) => entry.server === server)
      .map((entry) => entry.tool);
  }

  /** Writes what is pending and stops watching the file. */
  async close(): Promise<void> {
    if (this.watched) unwatchFile(this.watched.path);
    this.watched = undefined;
    if (this.saveTimer) {
      clearTimeout(this.saveTimer);
      this.saveTimer = undefined;
      this.save();
    }
    await this.saving;
  }

  private digestOf(tool: Tool): { digest: string; definition: PinnedDefinition } {
    let entry = this.digests.get(tool);
    if (!entry) {
      const definition = pinnedDefinition(tool);
      entry = { digest: digestOf(definition), definition };
      this.digests.set(tool, entry);
    }
    return entry;
  }

  private report(server: string, tool: string, record: PinRecord, withheld: boolean): void {
    const once = `${server}/${tool} ${record.changed?.digest} ${withheld}`;
    if (this.reported.has(once)) return;
    this.reported.add(once);
    const fields = record.changed ? changedFields(record.definition, record.changed.definition).join(', ') : '';
    const then = withheld ? 'withheld from clients until approved' : 'still listed (pinning: warn)';
    this.options.log.warn(
      `tool pinning: tool '${tool}' of server '${server}' changed since it was pinned (${fields}); ${then}. ` +
        `Approve it in the console or with: mcproxy approve ${server}/${tool}`,
    );
  }

  private changesSeen(): void {
    this.scheduleSave();
    this.options.onChangesSeen?.();
  }

  private scheduleSave(): void {
    if (this.saveTimer || !this.writable || this.settings.stateFile === undefined) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      this.save();
    }, SAVE_DELAY_MS);
    this.saveTimer.unref();
  }

  private save(): void {
    const path = this.settings.stateFile;
    if (path === undefined || !this.writable) return;
    const text = formatPins(this.pins);
    const digest = textDigest(text);
    if (digest === this.lastWritten) return;
    this.lastWritten = digest;
    this.saving = this.saving
      .then(() => writePins(path, text))
      .catch((error: unknown) =>
        this.options.log.warn(
          `tool pinning: cannot write ${path} (${errorMessage(error)}); pins are kept in memory only. ` +
            'Set pinning.state_file to a writable path (a read-only config mount needs one)',
        ),
      );
  }

  /** `mcproxy approve` edits the file: approvals there (a newer `pinnedAt`) are taken over. */
  private watch(path: string): void {
    const watcher = watchFile(path, { interval: WATCH_INTERVAL_MS, persistent: false }, () => {
      void this.takeApprovals(path);
    });
    this.watched = { path, watcher };
  }

  private async takeApprovals(path: string): Promise<void> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch {
      return;
    }
    if (textDigest(text) === this.lastWritten) return;
    let fromFile: Pins;
    try {
      fromFile = parsePins(text, path);
    } catch (error) {
      this.options.log.warn(`tool pinning: ${errorMessage(error)}; ignored`);
      return;
    }
    this.writable = true;
    let approved = false;
    for (const [key, record] of fromFile) {
      const mine = this.pins.get(key);
      if (mine && record.pinnedAt <= mine.pinnedAt) continue;
      this.pins.set(
        key,
        mine?.changed && mine.changed.digest !== record.digest ? { ...record, changed: mine.changed } : record,
      );
      approved ||= mine !== undefined;
    }
    if (!approved) return;
    this.options.log.info(`tool pinning: took over approvals from ${path}`);
    this.changesSeen();
    this.options.onApproved?.();
  }
}

function textDigest(text: string): string {
  return createHash('sha256').update(text).digest('base64');
}

/** The error of a call to a withheld tool. */
export function withheldError(publicName: string, server: string, tool: string): GatewayError {
  return new GatewayError(
    'TOOL_WITHHELD',
    `tool "${publicName}" is withheld: its definition changed since it was pinned (pinning: "strict"); ` +
      `an admin must approve it first (mcproxy approve ${server}/${tool}, or the console)`,
    { data: { server, tool } },
  );
}
