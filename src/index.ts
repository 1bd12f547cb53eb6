/**
 * mcproxy as a library: run the gateway inside your own process.
 *
 * @example
 * import { Gateway, GatewayHttpServer, loadConfig } from 'mcproxy';
 * const gateway = new Gateway({ config: await loadConfig('config/mcp-servers.json') });
 * const http = new GatewayHttpServer(gateway, { host: '127.0.0.1', port: 12010 });
 * console.log(`listening on ${await http.listen()}`);
 * await gateway.start();
 * // … later
 * await http.close();
 * await gateway.close();
 */
export { loadConfig, parseConfigText } from './config/load.js';
export type { GatewayConfig, ServerConfig } from './config/model.js';
export type { GatewayErrorCode } from './errors.js';
export { GatewayError, isGatewayError } from './errors.js';
export type { GatewayOptions, HealthReport, ServerHealth } from './gateway.js';
export { Gateway } from './gateway.js';
export { createToolSurfaces } from './modes/tool-surfaces.js';
export type { Logger, LoggerOptions } from './observability/log.js';
export { createLogger, createSilentLogger } from './observability/log.js';
export { createMetrics } from './observability/metrics.js';
export type { HttpServerOptions } from './serve/http-server.js';
export { GatewayHttpServer } from './serve/http-server.js';
export { serveStdio } from './serve/stdio.js';
