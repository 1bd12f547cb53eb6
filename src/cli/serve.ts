import { type AuditLog, openAuditLog } from '../access/audit.js';
import { hasNamespace } from '../access/namespaces.js';
import { loadConfig } from '../config/load.js';
import type { GatewayConfig } from '../config/model.js';
import { secretValues } from '../config/secrets.js';
import { errorMessage } from '../errors.js';
import { Gateway } from '../gateway.js';
import { ManifestService } from '../modes/manifest.js';
import { createToolSurfaces } from '../modes/tool-surfaces.js';
import { closeLogger, createLogger, type Logger } from '../observability/log.js';
import { createMetrics } from '../observability/metrics.js';
import { metricsRoute, statusPageRoute } from '../observability/routes.js';
import { GATEWAY_VERSION } from '../relay/client-session.js';
import { type ConfigReloader, startConfigReloader } from '../reload/reloader.js';
import { GatewayHttpServer } from '../serve/http-server.js';
import { serveStdio } from '../serve/stdio.js';
import { readTlsFiles, type TlsFiles } from '../serve/tls.js';
import type { CliArgs } from './args.js';

/** Runs the gateway until SIGTERM/SIGINT (or, with --stdio, until the client goes away). Returns the exit code. */
export async function runServe(args: CliArgs): Promise<number> {
  // Syslog unless --log asked for stdout; with --stdio, stdout belongs to the protocol, so stderr.
  let config: GatewayConfig | undefined;
  const log: Logger = createLogger({
    level: args.logLevel,
    format: args.logFormat,
    destination: args.stdio ? 'stderr' : args.log ? 'stdout' : 'syslog',
    ...(args.syslog ? { syslog: { address: args.syslog } } : {}),
    redactValues: () => (config ? secretValues(config) : []),
  });
  try {
    config = await loadConfig(args.config);
  } catch (error) {
    process.stderr.write(`mcproxy: ${errorMessage(error)}\n`);
    await closeLogger(log);
    return 1;
  }
  if (args.mode) config = { ...config, mode: args.mode };
  // Access (issue 6): TLS files are read once, the audit log opened once; both need a restart to change.
  let tls: TlsFiles | undefined;
  try {
    tls = args.stdio ? undefined : await readTlsFiles(config);
  } catch (error) {
    process.stderr.write(`mcproxy: ${errorMessage(error)}\n`);
    await closeLogger(log);
    return 1;
  }
  if (args.namespace !== undefined && !hasNamespace(config, args.namespace)) {
    process.stderr.write(`mcproxy: --namespace: no namespace "${args.namespace}" in ${args.config}\n`);
    await closeLogger(log);
    return 1;
  }
  const audit: AuditLog | undefined = config.audit
    ? openAuditLog(config.audit.path, { onError: (error) => log.error(error.message) })
    : undefined;

  const metrics = createMetrics({ version: GATEWAY_VERSION });
  const surfaces = createToolSurfaces();
  const gateway = new Gateway({
    config,
    logger: log,
    metrics,
    toolSurfaceFactory: surfaces.factory,
    ...(audit ? { upstreamOAuth: { audit } } : {}),
  });
  const http = args.stdio
    ? undefined
    : new GatewayHttpServer(gateway, { host: args.host, port: args.port, jsonResponse: args.jsonResponse, tls, audit });
  http?.addRoute(statusPageRoute());
  http?.addRoute(metricsRoute(metrics));

  let reloader: ConfigReloader | undefined;
  const manifests = new ManifestService(gateway);
  let stopping: Promise<number> | undefined;
  const stop = (reason: string): Promise<number> => {
    stopping ??= (async () => {
      log.info(`Stopping (${reason})`);
      await reloader?.close();
      await manifests.close();
      await http?.close().catch(() => {});
      await gateway.close();
      await surfaces.close();
      await audit?.close();
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
      log.error(`cannot listen on ${args.host}:${args.port}: ${errorMessage(error)}`);
      return 1;
    }
  }
  if (url) log.info(`listening on ${url} (Streamable HTTP at ${url}/mcp, SSE at ${url}/sse)`);
  // Clients may connect at once: their list requests wait for start-up, their calls to started servers do not.
  const started = gateway.start().then(async () => {
    const ready = gateway.listServers().filter((upstream) => upstream.state === 'ready').length;
    const enabled = gateway.config.servers.filter((server) => server.enabled).length;
    log.info(`Gateway ready: ${ready} of ${enabled} servers, ${gateway.catalog.tools.length} tools`);
    if (stopping) return;
    if (Object.keys(gateway.config.manifests).length > 0) manifests.start();
    const cliMode = args.mode;
    reloader = await startConfigReloader(gateway, {
      configPath: args.config,
      watch: args.reload,
      intervalMs: args.reloadIntervalMs,
      log,
      transform: cliMode ? (next) => ({ ...next, mode: cliMode }) : undefined,
      // The log masks the secrets of the config in force.
      onReload: () => {
        config = gateway.config;
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
