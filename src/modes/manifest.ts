import type { ManifestsSettings } from '../config/schema.js';
import { errorMessage } from '../errors.js';
import type { Gateway } from '../gateway.js';

const REFRESH_DEBOUNCE_MS = 250;
const HEALTH_CHECK_TIMEOUT_MS = 5_000;
/** A failed server is tried again at most this often, or a server that never starts would restart forever. */
const RESTART_FAILED_COOLDOWN_MS = 5 * 60_000;

export interface ManifestSnapshot {
  generatedAt: string;
  reason: string;
  servers: { name: string; state: string; tools: number }[];
}

/**
 * The seeds' event-driven manifest: after `startup_dwell_secs` the first manifest is made, then a new one
 * whenever the catalog (config, list_changed) or a server's health changes. Around each refresh run the
 * configured hooks: `health_check_all` pings every ready server, `restart_failed` tries failed servers again.
 * With `typed_stub_generation.enabled`, each refresh writes the catalog's TypeScript declarations.
 * Code Mode's `api.manifest()` always reads the live catalog; this keeps the hooks and the stubs in step.
 */
export class ManifestService {
  latest?: ManifestSnapshot;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private queuedReason?: string;
  private readonly unsubscribe: (() => void)[] = [];
  private readonly lastRetry = new Map<string, number>();
  private closed = false;

  constructor(private readonly gateway: Gateway) {}

  private get settings(): ManifestsSettings {
    return this.gateway.config.manifests;
  }

  /** Waits the dwell time, makes the first manifest, then follows changes. */
  start(): void {
    const dwellMs = (this.settings.startup_dwell_secs ?? 0) * 1000;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.unsubscribe.push(
        this.gateway.onCatalogChanged(() => this.schedule('catalog changed')),
        this.gateway.onServerStateChanged((upstream) =>
          this.schedule(`server "${upstream.name}" is ${upstream.state}`),
        ),
      );
      void this.refresh('startup');
    }, dwellMs);
    this.timer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    for (const unsubscribe of this.unsubscribe.splice(0)) unsubscribe();
    await this.running;
  }

  private schedule(reason: string): void {
    if (this.closed || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.refresh(reason);
    }, REFRESH_DEBOUNCE_MS);
    this.timer.unref();
  }

  /** One refresh at a time; a trigger arriving meanwhile runs one more afterwards. */
  private refresh(reason: string): Promise<void> {
    if (this.running) {
      this.queuedReason = reason;
      return this.running;
    }
    this.running = this.refreshOnce(reason)
      .catch((error: unknown) => this.gateway.log.warn(`manifest refresh failed: ${errorMessage(error)}`))
      .finally(() => {
        this.running = undefined;
        const queued = this.queuedReason;
        this.queuedReason = undefined;
        if (queued && !this.closed) void this.refresh(queued);
      });
    return this.running;
  }

  private async refreshOnce(reason: string): Promise<void> {
    const hooks = this.settings.refresh_event_hooks ?? {};
    await this.runHooks(hooks.pre_refresh ?? []);
    const { catalog } = this.gateway;
    this.latest = {
      generatedAt: new Date().toISOString(),
      reason,
      servers: this.gateway.listServers().map((upstream) => ({
        name: upstream.name,
        state: upstream.state,
        tools: catalog.toolCount(upstream.name),
      })),
    };
    const stubs = this.settings.typed_stub_generation;
    if (stubs?.enabled) {
      // Type generation is loaded only by a gateway that writes stubs.
      const { writeStubs } = await import('../codemode/stubs.js');
      await writeStubs(catalog.tools, stubs.output_dir ?? './stubs');
    }
    this.gateway.log.info(
      `Manifest refreshed (${reason}): ${this.latest.servers.length} servers, ${catalog.tools.length} tools` +
        (stubs?.enabled ? `, stubs in ${stubs.output_dir ?? './stubs'}` : ''),
    );
    await this.runHooks(hooks.post_refresh ?? []);
  }

  private async runHooks(hooks: readonly string[]): Promise<void> {
    for (const hook of hooks) {
      if (hook === 'health_check_all') await this.healthCheckAll();
      if (hook === 'restart_failed') this.restartFailed();
    }
  }

  private async healthCheckAll(): Promise<void> {
    const ready = this.gateway
      .listServers()
      .flatMap((server) => server.listInstances())
      .filter((instance) => instance.state === 'ready');
    await Promise.all(
      ready.map((instance) =>
        instance
          .request('ping', undefined, {
            timeoutMs: HEALTH_CHECK_TIMEOUT_MS,
            describe: `health check of "${instance.name}"`,
          })
          .catch((error: unknown) => instance.log.warn(`health check failed: ${errorMessage(error)}`)),
      ),
    );
  }

  private restartFailed(): void {
    const now = Date.now();
    for (const upstream of this.gateway.listServers()) {
      if (!upstream.config.enabled || upstream.state !== 'failed') continue;
      if (now - (this.lastRetry.get(upstream.name) ?? -Infinity) < RESTART_FAILED_COOLDOWN_MS) continue;
      this.lastRetry.set(upstream.name, now);
      upstream.retry();
    }
  }
}
