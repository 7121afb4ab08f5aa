import { timingSafeEqual } from 'node:crypto';
import { type Server, createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '../config.ts';
import { ErrorCode } from '../errors.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { sendError } from './respond.ts';
import { createHttpsServer } from './https-server.ts';
import type { Logger } from '../logger.ts';

export const METRICS_PATH = '/metrics';

/** GET /metrics in Prometheus' text format; with METRICS_TOKEN, only for `Authorization: Bearer <token>` (401 otherwise). */
export function metricsRoute(metrics: Metrics, token: string | undefined) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (token && !bearerIs(req.headers.authorization, token)) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="metrics"');
      return sendError(res, 401, ErrorCode.UNAUTHENTICATED, 'The metrics need the bearer token METRICS_TOKEN sets.');
    }
    res.writeHead(200, { 'Content-Type': metrics.registry.contentType, 'Cache-Control': 'no-store' });
    res.end(await metrics.registry.metrics());
  };
}

/**
 * Where /metrics is served: METRICS_PORT, a listener of its own (a port the operator keeps off the public
 * network) that serves nothing else; else the main listener, but only behind METRICS_TOKEN. Neither: not at all.
 */
export function metricsOnMainListener(config: Pick<Config, 'metrics'>, metrics: Metrics) {
  const served = config.metrics.port === undefined && config.metrics.token !== undefined;
  const route = metricsRoute(metrics, config.metrics.token);
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (served) return route(req, res);
    sendError(res, 404, ErrorCode.NOT_FOUND, config.metrics.port === undefined ? 'Metrics are served with METRICS_TOKEN or on METRICS_PORT.' : 'Not found.');
  };
}

/** METRICS_PORT's listener: HTTPS with the server's certificate when Vigil has one (every hop is TLS), else HTTP. */
export function metricsServer(config: Pick<Config, 'metrics' | 'tls'>, metrics: Metrics, log: Logger): { server: Server; stopWatching(): void } | null {
  if (config.metrics.port === undefined) return null;
  const route = metricsRoute(metrics, config.metrics.token);
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    if (new URL(req.url ?? '/', 'http://vigil.invalid').pathname === METRICS_PATH) return void route(req, res);
    sendError(res, 404, ErrorCode.NOT_FOUND, 'Not found.');
  };
  return config.tls ? createHttpsServer(config.tls, log, listener) : { server: createServer(listener), stopWatching: () => {} };
}

function bearerIs(header: string | undefined, token: string): boolean {
  const presented = Buffer.from(/^Bearer (.+)$/.exec(header ?? '')?.[1] ?? '');
  const expected = Buffer.from(token);
  return presented.length === expected.length && timingSafeEqual(presented, expected);
}
