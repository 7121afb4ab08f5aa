import type { IncomingMessage, ServerResponse } from 'node:http';
import { evidenceSelection } from '../audit/evidence.ts';
import { EXPORT_SCOPES, claimExport, filteredSelection, streamExport } from '../audit/export.ts';
import { TrailUnreachable } from '../audit/shared-trail.ts';
import { passesScopes } from '../builder.ts';
import { ErrorCode } from '../errors.ts';
import type { Services } from '../services.ts';
import { isUuid } from '../tokens.ts';
import { asViewer } from '../unit-of-work.ts';
import { type TrustProxy, prepareHttpRequest, requestMeta } from './prepare-request.ts';
import { sendError } from './respond.ts';

const CONTENT_TYPES = { csv: 'text/csv; charset=utf-8', jsonl: 'application/x-ndjson; charset=utf-8', ocsf: 'application/x-ndjson; charset=utf-8', bundle: 'application/x-ndjson; charset=utf-8' } as const;
const EXTENSIONS = { csv: 'csv', jsonl: 'jsonl', ocsf: 'ocsf.jsonl', bundle: 'bundle.jsonl' } as const;

/**
 * GET /audit/exports/<id>: the download of a prepared export. The id is not a credential: the request
 * must also carry the session (or key) of the user who prepared it, who must still hold the rights of the
 * GraphQL field that prepared it (EXPORT_SCOPES). The field asked for a fresh proof (step-up); the
 * download, single and within a minute of it, does not ask again.
 */
export function exportRoute(services: Services, options: { trust: TrustProxy; tls: boolean }) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'GET') return sendError(res, 405, ErrorCode.BAD_USER_INPUT, 'Use GET.');
    const meta = requestMeta(req, options.trust, options.tls);
    const { auth } = await prepareHttpRequest(services, req, meta, { append: (name, value) => void res.appendHeader(name, value) });
    const viewer = auth.viewer;
    if (!viewer) return sendError(res, 401, ErrorCode.UNAUTHENTICATED, 'Sign in to do this.');
    if (!passesScopes(viewer, services.clock, EXPORT_SCOPES)) return sendError(res, 403, ErrorCode.FORBIDDEN, 'You are not allowed to do this.');
    const id = new URL(req.url ?? '/', 'http://vigil.invalid').pathname.split('/').at(-1) ?? '';
    const ticket = isUuid(id) ? await asViewer({ services, meta, viewer }, claimExport, id) : null;
    if (!ticket) return sendError(res, 404, ErrorCode.NOT_FOUND, 'This export does not exist, was downloaded already, or expired.');
    const em = services.db.forTenant(viewer.tenantId);
    const selection = ticket.format === 'bundle' ? await evidenceSelection(services, em, viewer.tenantId, ticket).catch(unreachable) : filteredSelection(ticket);
    if (!selection) return sendError(res, 503, ErrorCode.SERVICE_UNAVAILABLE, 'The checkpoint trail in the external bucket cannot be read right now, so no bundle is made without it. Prepare the export again shortly.');
    const name = `vigil-audit-${viewer.tenant.slug}-${services.clock.now().toISOString().slice(0, 19).replaceAll(':', '-')}.${EXTENSIONS[ticket.format]}`;
    res.writeHead(200, { 'Content-Type': CONTENT_TYPES[ticket.format], 'Content-Disposition': `attachment; filename="${name}"`, 'Cache-Control': 'no-store' });
    await streamExport(em, selection, ticket.format, res);
  };
}

/** The bucket out of reach: no bundle rather than one held to less than the trail. */
function unreachable(error: unknown): null {
  if (error instanceof TrailUnreachable) return null;
  throw error;
}
