import { gql } from '../lib/api.ts';
import { describeJustification } from '../lib/support.ts';
import type { AuditEvent } from '../lib/types.ts';

/** SupportGrant of the API: the owner's grant, or a break-glass of both operators. */
export interface SupportGrant {
  id: string;
  kind: 'GRANT' | 'BREAK_GLASS';
  scopes: string[];
  reason: string;
  caseReference: string;
  justification: string | null;
  createdAt: string;
  approvedAt: string | null;
  expiresAt: string;
  revokedAt: string | null;
  inForce: boolean;
}

export const GRANT_FIELDS = 'id kind scopes reason caseReference justification createdAt approvedAt expiresAt revokedAt inForce';

export async function loadGrants(): Promise<SupportGrant[]> {
  return (await gql<{ supportGrants: SupportGrant[] }>(`query SupportGrants { supportGrants { ${GRANT_FIELDS} } }`)).supportGrants;
}

export type GrantState = 'in-force' | 'waiting' | 'revoked' | 'expired';

/** In force as the server judged it; a break-glass not approved yet waits for the second operator until its end. */
export function grantState(grant: SupportGrant, now = Date.now()): GrantState {
  if (grant.revokedAt) return 'revoked';
  if (grant.inForce) return 'in-force';
  return !grant.approvedAt && Date.parse(grant.expiresAt) > now ? 'waiting' : 'expired';
}

export const GRANT_STATES: Record<GrantState, string> = {
  'in-force': 'In force',
  waiting: 'Waiting for the second operator',
  revoked: 'Revoked',
  expired: 'Expired',
};

/** What support's access to the company writes in its journal: each request, and the steps of a break-glass. */
export const ACCESS_ACTIONS = ['support.access', 'support.break_glass'];
/** What changes the list of grants: followed too, so that the list follows what others do. */
export const GRANT_CHANGES = ['support.granted', 'support.revoked', 'support.break_glass'];
export const SUPPORT_ACTIONS = [...new Set([...ACCESS_ACTIONS, ...GRANT_CHANGES])];

interface AccessDetails {
  caseReference?: string;
  operation?: { type?: string; name?: string | null; fields?: string[] };
  step?: string;
  justification?: string;
}

/** One line of "Each access": what support did, in words, of which fields, in which named operation. */
export function describeAccess(event: AuditEvent): { what: string; fields: string; operation: string | null } {
  const details = event.details as AccessDetails;
  if (event.action === 'support.break_glass') {
    const what = details.step === 'opened' ? 'Break-glass opened by the second operator' : 'Break-glass requested';
    return { what, fields: describeJustification(details.justification), operation: null };
  }
  const { type, name = null, fields = [] } = details.operation ?? {};
  const what =
    type === 'open_session' ? 'Opened a support session'
    : type === 'mutation' ? 'Tried to change something: refused, support is read-only'
    : type === 'subscription' ? 'Watched live'
    : 'Read';
  return { what, fields: fields.join(', '), operation: name };
}
