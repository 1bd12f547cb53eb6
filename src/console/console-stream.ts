import type { ServerResponse } from 'node:http';

import type { Gateway } from '../gateway.js';
import type { LogTail, TailEntry } from '../observability/log-tail.js';
import { refreshViewer, type Viewer } from './console-access.js';
import { consoleCatalog, type ConsoleSources, consoleState } from './console-state.js';

/** How often open consoles are checked for changes no event announces (sessions, instance states). */
const SWEEP_MS = 1_000;
/** Events come in bursts (a reload, a restart): one push per burst. */
const PUSH_DELAY_MS = 100;
const HEARTBEAT_MS = 15_000;
/** Open console streams at once; more are refused with 503 (each costs a snapshot per change). */
export const MAX_CONSOLE_STREAMS = 32;

interface Stream {
  res: ServerResponse;
  viewer: Viewer;
  lastState?: string;
  lastCatalog?: string;
}

export interface ConsoleStreamOptions extends ConsoleSources {
  tail?: LogTail;
  /** Masks secrets in everything sent (as /health is masked). */
  mask: (text: string) => string;
}

/**
 * The console's pushed updates: one Server-Sent Events stream per open console, with `state` (servers,
 * sessions, reloads, changed tools), `catalog` (tools, prompts, resources) and `log` events, each sent when it
 * changed. Gateway events trigger a push at once; a sweep once a second catches the rest, and only runs while
 * a console is open. A stream whose credential a reload removed is ended.
 */
export class ConsoleStreams {
  private readonly streams = new Set<Stream>();
  private sweepTimer?: NodeJS.Timeout;
  private pushTimer?: NodeJS.Timeout;
  private heartbeatTimer?: NodeJS.Timeout;
  private readonly unsubscribe: (() => void)[] = [];

  constructor(private readonly options: ConsoleStreamOptions) {}

  get size(): number {
    return this.streams.size;
  }

  /** Opens a stream for `viewer` on `res` and sends the current state, catalog and log at once. */
  open(res: ServerResponse, viewer: Viewer): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'x-accel-buffering': 'no',
    });
    const stream: Stream = { res, viewer };
    this.streams.add(stream);
    res.on('close', () => this.close(stream));
    if (this.streams.size === 1) this.startWatching();
    this.send(stream, 'log', this.options.tail?.entries() ?? []);
    this.refresh(stream);
  }

  /** Ends every stream (the gateway is stopping). */
  closeAll(): void {
    for (const stream of [...this.streams]) stream.res.end();
    this.stopWatching();
  }

  private startWatching(): void {
    const { gateway, history, tail } = this.options;
    const soon = () => this.schedulePush();
    this.unsubscribe.push(gateway.onServerStateChanged(soon), gateway.onCatalogChanged(soon));
    if (history) this.unsubscribe.push(history.subscribe(soon));
    if (tail) this.unsubscribe.push(tail.subscribe((entry) => this.broadcastLog(entry)));
    this.sweepTimer = setInterval(() => this.refreshAll(), SWEEP_MS).unref();
    this.heartbeatTimer = setInterval(() => {
      for (const stream of this.streams) stream.res.write(': keep-alive\n\n');
    }, HEARTBEAT_MS).unref();
  }

  private stopWatching(): void {
    for (const off of this.unsubscribe.splice(0)) off();
    clearInterval(this.sweepTimer);
    clearInterval(this.heartbeatTimer);
    clearTimeout(this.pushTimer);
    this.pushTimer = undefined;
  }

  private close(stream: Stream): void {
    if (!this.streams.delete(stream)) return;
    if (this.streams.size === 0) this.stopWatching();
  }

  private schedulePush(): void {
    if (this.pushTimer) return;
    this.pushTimer = setTimeout(() => {
      this.pushTimer = undefined;
      this.refreshAll();
    }, PUSH_DELAY_MS).unref();
  }

  private refreshAll(): void {
    for (const stream of [...this.streams]) this.refresh(stream);
  }

  /** Sends the stream's state and catalog if they changed since it last got them. */
  private refresh(stream: Stream): void {
    const gateway: Gateway = this.options.gateway;
    const viewer = refreshViewer(stream.viewer, gateway.config);
    if (!viewer) {
      this.send(stream, 'denied', { message: 'your credential is no longer valid' });
      stream.res.end();
      return;
    }
    stream.viewer = viewer;
    // A client that does not keep up gets the newest state once it has drained, not every one in between.
    if (stream.res.writableNeedDrain) return;
    const state = this.options.mask(JSON.stringify(consoleState(this.options, viewer)));
    if (state !== stream.lastState) {
      stream.lastState = state;
      this.write(stream, 'state', state);
    }
    const catalog = this.options.mask(JSON.stringify(consoleCatalog(gateway, viewer)));
    if (catalog !== stream.lastCatalog) {
      stream.lastCatalog = catalog;
      this.write(stream, 'catalog', catalog);
    }
  }

  private broadcastLog(entry: TailEntry): void {
    for (const stream of this.streams) if (!stream.res.writableNeedDrain) this.send(stream, 'log', [entry]);
  }

  private send(stream: Stream, event: string, data: unknown): void {
    this.write(stream, event, this.options.mask(JSON.stringify(data)));
  }

  private write(stream: Stream, event: string, json: string): void {
    stream.res.write(`event: ${event}\ndata: ${json}\n\n`);
  }
}
