import { EVENT_FIELDS } from '../lib/audit.ts';
import type { AuditFilter, AuditOutcome } from '../lib/types.ts';

export const PAGE_SIZE = 25;

export const JOURNAL_PAGE = `query JournalPage($first: Int!, $after: String, $filter: AuditEventFilter) {
  auditEvents(first: $first, after: $after, filter: $filter) {
    edges { node { ${EVENT_FIELDS} } }
    pageInfo { hasNextPage endCursor }
  }
}`;

/** The filter kept in the address, so a search can be bookmarked and linked to. */
export function filterFromSearch(params: URLSearchParams): AuditFilter {
  const actions = (params.get('actions') ?? '').split(',').filter(Boolean);
  const outcome = params.get('outcome');
  return {
    ...(actions.length ? { actions } : {}),
    ...(params.get('actorId') ? { actorId: params.get('actorId')! } : {}),
    ...(outcome === 'SUCCESS' || outcome === 'FAILURE' || outcome === 'DENIED' ? { outcome: outcome as AuditOutcome } : {}),
    ...(params.get('ip') ? { ip: params.get('ip')! } : {}),
  };
}

export function searchFromFilter(filter: AuditFilter): string {
  const params = new URLSearchParams();
  if (filter.actions?.length) params.set('actions', filter.actions.join(','));
  if (filter.actorId) params.set('actorId', filter.actorId);
  if (filter.outcome) params.set('outcome', filter.outcome);
  if (filter.ip) params.set('ip', filter.ip);
  const search = params.toString();
  return search ? `?${search}` : '';
}
