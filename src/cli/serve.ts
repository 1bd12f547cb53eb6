import { type AuditLog, openAuditLog } from '../access/audit.js';
import { hasNamespace } from '../access/namespaces.js';
import { loadConfig } from '../config/load.js';
import type { GatewayConfig } from '../config/model.js';
import { secretValues } from '../config/secrets.js';
import { createConsole } from '../console/console-route.js';
import { ReloadHistory } from '../console/reload-history.js';
import { errorMessage } from '../errors.js';
import { Gateway } from '../gateway.js';
import { ManifestService } from '../modes/manifest.js';
import { createToolSurfaces } from '../modes/tool-surfaces.js';
import { closeLogger, createLogger, type Logger } from '../observability/log.js';
import { LogTail } from '../observability/log-tail.js';
import { createMetrics } from '../observability/metrics.js';
import { metricsRoute } from '../observability/routes.js';
import { GATEWAY_VERSION } from '../relay/client-session.js';
import { type ConfigReloader, startConfigReloader } from '../reload/reloader.js';
import { GatewayHttpServer } from '../serve/http-server.js';
import { serveStdio } from '../serve/stdio.js';
import { readTlsFiles, type TlsFiles } from '../serve/tls.js';
import { openStateStore } from '../state/open-store.js';
import { currentReplicaId, replicaIdFromEnvironment, useReplicaId } from '../state/replica.js';
import type { StateStore } from '../state/store.js';
import { startTracing, stopTracing } from '../tracing/tracing.js';
import type { CliArgs } from './args.js';
import { echoMode, terminalFacts } from './log-echo.js';
import { exposureWarning, watchStartup } from './startup-notes.js';

/**
 * Runs the gateway until SIGTERM/SIGINT (or, with --stdio, until the client goes away). Returns the exit code.
 * `configPath` is the file found by `findConfigPath`.
 */
export async function runServe(args: CliArgs, configPath: string): Promise<number> {
  // Syslog unless --log asked for stdout; with --stdio, stdout belongs to the protocol, so stderr.
  let config: GatewayConfig | undefined;
  const destination = args.stdio ? 'stderr' : args.log ? 'stdout' : 'syslog';
  const facts = terminalFacts();
  const echo = echoMode(destination, facts);
  const tail = new LogTail();
  const log: Logger = createLogger({
    tail,
    level: args.logLevel,
    format: args.logFormat,
    destination,
    ...(args.syslog ? { syslog: { address: args.syslog } } : {}),
    ...(echo ? { echo: { mode: echo } } : {}),
    redactValues: () => (config ? secretValues(config) : []),
  });
  // A fatal error reaches a person whatever the log's destination: through the echo, the terminal the log is
  // on, or (when neither) straight on stderr.
  const seen = echo !== undefined || destination === 'stderr' || (destination === 'stdout' && facts.stdoutIsTerminal);
  const fail = async (message: string): Promise<number> => {
    log.fatal({ notice: true }, message);
    if (!seen) process.stderr.write(`mcproxy: ${message}\n`);
    await closeLogger(log);
    return 1;
  };
  try {
    config = await loadConfig(configPath);
  } catch (error) {
    return fail(errorMessage(error));
  }
  if (args.mode) config = { ...config, mode: args.mode };
  // Access (issue 6): TLS files are read once, the audit log opened once; both need a restart to change.
  let tls: TlsFiles | undefined;
  try {
    tls = args.stdio ? undefined : await readTlsFiles(config);
  } catch (error) {
    return fail(errorMessage(error));
  }
  if (args.namespace !== undefined && !hasNamespace(config, args.namespace)) {
    return fail(`--namespace: no namespace "${args.namespace}" in ${configPath}`);
  }
  const audit: AuditLog | undefined = config.audit
    ? openAuditLog(config.audit.path, { onError: (error) => log.error(error.message) })
    : undefined;

  // Tracing (off unless configured) loads the OpenTelemetry SDK only now; it needs a restart to change.
  if (config.tracing) await startTracing(config.tracing, log);

  // Scale-out (issue 18): replicas share rate budgets and OAuth grants in Redis, and name themselves in
  // their session ids; one machine keeps both in memory, as before.
  let state: StateStore | undefined;
  if (!args.stdio && config.state?.store === 'redis') {
    try {
      state = await openStateStore(config.state, (error) => log.warn(`state store: ${errorMessage(error)}`));
    } catch (error) {
      return fail(`cannot reach the state store: ${errorMessage(error)}`);
    }
    useReplicaId(replicaIdFromEnvironment());
    log.info(`replica ${currentReplicaId()}: state shared in ${config.state.store}`);
  }

  // Only the HTTP server's /metrics shows them: under --stdio they would be kept for nobody, at a cost on every
  // call (each call timed and counted) and in the background (prom-client's GC observer, its event-loop monitor).
  const metrics = args.stdio ? undefined : createMetrics({ version: GATEWAY_VERSION });
  const surfaces = createToolSurfaces();
  await surfaces.prepare(config);
  const gateway = new Gateway({
    config,
    logger: log,
    metrics,
    toolSurfaceFactory: surfaces.factory,
    ...(audit ? { upstreamOAuth: { audit } } : {}),
  });
  const http = args.stdio
    ? undefined
    : new GatewayHttpServer(gateway, {
        host: args.host,
        port: args.port,
        jsonResponse: args.jsonResponse,
        tls,
        audit,
        ...(state ? { state } : {}),
      });
  const history = new ReloadHistory();
  const operator = http
    ? createConsole({ gateway, oauth: http.oauth, history, tail, limiter: http.limiter, ...(audit ? { audit } : {}) })
    : undefined;
  if (http && operator) http.addRoute(operator.route);
  if (http && metrics) http.addRoute(metricsRoute(metrics));

  let reloader: ConfigReloader | undefined;
  const manifests = new ManifestService(gateway);
  let stopping: Promise<number> | undefined;
  const stop = (reason: string): Promise<number> => {
    stopping ??= (async () => {
      log.info(`Stopping (${reason})`);
      await reloader?.close();
      await manifests.close();
      operator?.close();
      await http?.close().catch(() => {});
      await gateway.close();
      await surfaces.close();
      await state?.close().catch(() => {});
      await audit?.close();
      await stopTracing();
      log.info('Stopped');
      await closeLogger(log);
      return 0;
    })();
    return stopping;
  };
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    // A second signal means "now": the children are killed by gateway.close()'s deadline anyway.
    if (signals > 1) process.exit(130);
    void stop(signal).then((code) => process.exit(code));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  // SIGHUP's default action would end the process; here it means "reload the config".
  process.on('SIGHUP', () => void reloader?.reloadNow('SIGHUP'));

  let url: string | undefined;
  if (http) {
    try {
      url = await http.listen();
    } catch (error) {
      return fail(`cannot listen on ${args.host}:${args.port}: ${errorMessage(error)}`);
    }
  }
  if (url) log.info({ notice: true }, `listening on ${url} (Streamable HTTP at ${url}/mcp, SSE at ${url}/sse)`);
  const exposure = http ? exposureWarning(args.host, config) : undefined;
  if (exposure) log.warn({ notice: true }, exposure);
  // Clients may connect at once: their list requests wait for start-up, their calls to started servers do not.
  const startup = gateway.start();
  watchStartup(gateway, startup, log);
  const started = startup.then(async () => {
    const ready = gateway.listServers().filter((upstream) => upstream.state === 'ready').length;
    const enabled = gateway.config.servers.filter((server) => server.enabled).length;
    log.info({ notice: true }, `Gateway ready: ${ready} of ${enabled} servers, ${gateway.catalog.tools.length} tools`);
    if (stopping) return;
    if (Object.keys(gateway.config.manifests).length > 0) manifests.start();
    const cliMode = args.mode;
    reloader = await startConfigReloader(gateway, {
      configPath,
      watch: args.reload,
      intervalMs: args.reloadIntervalMs,
      log,
      transform: cliMode ? (next) => ({ ...next, mode: cliMode }) : undefined,
      prepare: (next) => surfaces.prepare(next),
      // The log masks the secrets of the config in force.
      onReload: (report) => {
        config = gateway.config;
        history.applied(report);
        metrics?.configReloaded('ok');
      },
      onReloadFailed: (reason, message) => {
        history.rejected(reason, message);
        metrics?.configReloaded('error');
      },
    }).catch((error: unknown) => {
      log.error(`config reload is off: ${errorMessage(error)}`);
      return undefined;
    });
  });
  if (!http) {
    await Promise.all([
      started,
      serveStdio(gateway, process.stdin, process.stdout, { namespace: args.namespace, audit }),
    ]);
    return stop('stdin closed');
  }
  await started;
  return new Promise<number>(() => {
    // Runs until a signal ends the process.
  });
}
