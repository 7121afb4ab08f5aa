import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestMeta } from '../context.ts';
import type { Services } from '../services.ts';
import { databaseUnavailable, statementTimedOut } from '../db/connection-errors.ts';
import { ErrorCode, RETRY_AFTER_UNAVAILABLE_SECONDS, rateLimited, serviceUnavailable, timedOut } from '../errors.ts';
import { spendOperation } from './budget.ts';
import type { createGraphQLServer } from './graphql-server.ts';
import { livez, readyz } from './health.ts';
import { HSTS } from './https-server.ts';
import { CREDENTIAL_IN_URL_MESSAGE, type TrustProxy, credentialInUrl, prepareHttpRequest, requestMeta } from './prepare-request.ts';
import { sendError, sendJson } from './respond.ts';

type Yoga = ReturnType<typeof createGraphQLServer>;
export type Handler = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

export interface RouteOptions {
  trust: TrustProxy;
  tls: boolean;
  /** Production behind a TLS-terminating proxy: a request the proxy did not receive over HTTPS is redirected. */
  requireTls: boolean;
  /** Extra handlers tried before the dashboard, by path prefix. */
  routes: Array<{ prefix: string; handle: (req: IncomingMessage, res: ServerResponse) => Promise<void> }>;
  dashboard: Handler | null;
}

/** Load balancers and orchestrators probe these over whatever the network gives them. */
const HEALTH_PATHS = new Set(['/livez', '/readyz', '/healthz']);

function securityHeaders(res: ServerResponse, meta: RequestMeta): void {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
  if (meta.secure) res.setHeader('Strict-Transport-Security', HSTS);
}

export function createRequestListener(services: Services, yoga: Yoga, options: RouteOptions) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    try {
      const meta = requestMeta(req, options.trust, options.tls);
      securityHeaders(res, meta);
      const url = new URL(req.url ?? '/', 'http://vigil.invalid');
      if (url.pathname === '/livez') return livez(res);
      if (url.pathname === '/readyz' || url.pathname === '/healthz') return await readyz(services, res);
      if (options.requireTls && !meta.secure && !HEALTH_PATHS.has(url.pathname)) return redirectToHttps(req, res);
      if (credentialInUrl(url)) return sendError(res, 400, ErrorCode.BAD_USER_INPUT, CREDENTIAL_IN_URL_MESSAGE);
      if (url.pathname === '/graphql') {
        const vigil = await prepareHttpRequest(services, req, meta, { append: (name, value) => void res.appendHeader(name, value) });
        const wait = await spendOperation(services, meta, vigil.auth.viewer);
        if (wait !== null) return refuseOverBudget(res, wait);
        await yoga(req, res, { vigil });
        return;
      }
      const route = options.routes.find((r) => url.pathname.startsWith(r.prefix));
      if (route) return await route.handle(req, res);
      if (options.dashboard) return options.dashboard(req, res, () => sendError(res, 404, ErrorCode.NOT_FOUND, 'Not found.'));
      return sendError(res, 404, ErrorCode.NOT_FOUND, 'Not found.');
    } catch (error) {
      if (databaseUnavailable(error) || statementTimedOut(error)) return answerDatabaseTrouble(res, error, services);
      services.log.error({ err: error }, 'request failed');
      if (!res.headersSent) sendError(res, 500, 'INTERNAL_SERVER_ERROR', 'Unexpected error.');
      else res.destroy();
    }
  };
}

export function refuseOverBudget(res: ServerResponse, retryAfterSeconds: number): void {
  res.setHeader('Retry-After', String(retryAfterSeconds));
  const error = rateLimited(retryAfterSeconds);
  sendJson(res, 429, { errors: [{ message: error.message, extensions: { code: ErrorCode.RATE_LIMITED, retryAfterSeconds } }] });
}

/** Authentication (before GraphQL) needs the database too: the same answers as a resolver's (see maskUnexpected). */
function answerDatabaseTrouble(res: ServerResponse, error: unknown, services: Services): void {
  if (res.headersSent) return void res.destroy();
  if (statementTimedOut(error)) {
    services.log.warn({ err: error }, 'a statement ran past the statement timeout and was cancelled');
    return sendError(res, 503, ErrorCode.TIMEOUT, timedOut().message);
  }
  services.log.debug({ err: error }, 'database unavailable');
  res.setHeader('Retry-After', String(RETRY_AFTER_UNAVAILABLE_SECONDS));
  sendError(res, 503, ErrorCode.SERVICE_UNAVAILABLE, serviceUnavailable().message);
}

/** Behind a proxy that ends TLS, the proxy's own plain listener may forward: send the browser to HTTPS. */
function redirectToHttps(req: IncomingMessage, res: ServerResponse): void {
  const host = req.headers.host ?? '';
  if (!/^[a-z0-9.-]+(:\d+)?$/i.test(host)) return void res.writeHead(400, { 'Content-Length': '0' }).end();
  res.writeHead(308, { Location: `https://${host}${req.url ?? '/'}`, 'Content-Length': '0' }).end();
}
