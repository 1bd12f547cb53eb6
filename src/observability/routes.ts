import type { IncomingMessage, ServerResponse } from 'node:http';

import type { Metrics } from './metrics.js';

/** A route in the shape `GatewayHttpServer.addRoute` takes: answers and returns true, or returns false. */
export type ObservabilityRoute = (req: IncomingMessage, res: ServerResponse, url: URL) => boolean | Promise<boolean>;

/**
 * Serves the Prometheus exposition at `GET /metrics`.
 *
 * @example
 * http.addRoute(metricsRoute(metrics));
 */
export function metricsRoute(metrics: Metrics): ObservabilityRoute {
  return async function metricsEndpoint(req, res, url) {
    if (url.pathname !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) return false;
    const body = await metrics.render();
    res.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  };
}
