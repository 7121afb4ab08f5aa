import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Services } from '../services.ts';
import { ErrorCode } from '../errors.ts';
import type { createGraphQLServer } from './graphql-server.ts';
import { type TrustProxy, prepareHttpRequest, requestMeta } from './prepare-request.ts';

type Yoga = ReturnType<typeof createGraphQLServer>;
export type Handler = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

export interface RouteOptions {
  trust: TrustProxy;
  tls: boolean;
  /** Extra handlers tried before the dashboard, by path prefix. */
  routes: Array<{ prefix: string; handle: (req: IncomingMessage, res: ServerResponse) => Promise<void> }>;
  dashboard: Handler | null;
}

const CREDENTIAL_PARAMS = new Set(['api_key', 'apikey', 'api-key', 'key', 'token', 'access_token', 'session', 'session_token', 'vigil_session', 'authorization']);

/** A credential in a URL ends up in logs, history and Referer headers: such requests are refused outright. */
export function credentialInUrl(url: URL): boolean {
  for (const [name, value] of url.searchParams) {
    if (CREDENTIAL_PARAMS.has(name.toLowerCase()) || value.startsWith('vgl_')) return true;
  }
  return false;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(JSON.stringify(body));
}

export function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  sendJson(res, status, { errors: [{ message, extensions: { code } }] });
}

function securityHeaders(res: ServerResponse, tls: boolean): void {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
  if (tls) res.setHeader('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
}

export function createRequestListener(services: Services, yoga: Yoga, options: RouteOptions) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    try {
      securityHeaders(res, options.tls);
      const url = new URL(req.url ?? '/', 'http://vigil.invalid');
      if (credentialInUrl(url)) {
        return sendError(res, 400, ErrorCode.BAD_USER_INPUT, 'Credentials are never accepted in a URL: send them in a header.');
      }
      if (url.pathname === '/graphql') {
        const meta = requestMeta(req, options.trust, options.tls);
        const vigil = await prepareHttpRequest(services, req, meta, { append: (name, value) => void res.appendHeader(name, value) });
        await yoga(req, res, { vigil });
        return;
      }
      if (url.pathname === '/healthz') return await health(services, res);
      const route = options.routes.find((r) => url.pathname.startsWith(r.prefix));
      if (route) return await route.handle(req, res);
      if (options.dashboard) return options.dashboard(req, res, () => sendError(res, 404, ErrorCode.NOT_FOUND, 'Not found.'));
      return sendError(res, 404, ErrorCode.NOT_FOUND, 'Not found.');
    } catch (error) {
      services.log.error({ err: error }, 'request failed');
      if (!res.headersSent) sendError(res, 500, 'INTERNAL_SERVER_ERROR', 'Unexpected error.');
      else res.destroy();
    }
  };
}

/** For load balancers and compose: up only when the database answers. */
async function health(services: Services, res: ServerResponse): Promise<void> {
  try {
    await services.db.unscoped().execute('select 1');
    sendJson(res, 200, { status: 'ok' });
  } catch (error) {
    services.log.error({ err: error }, 'health check: database unreachable');
    sendJson(res, 503, { status: 'unavailable' });
  }
}
