import { ops } from '../lib/api.ts';
import type { GrantReview, SupportSessionOpened, TenantSummary } from '../lib/types.ts';

const GRANT_FIELDS = 'id tenantId tenantName kind scopes reason caseReference justification requestedByOperator approvedByOperator createdAt approvedAt expiresAt';

export async function loadGrants(): Promise<GrantReview[]> {
  return (await ops<{ supportGrants: GrantReview[] }>(`query SupportGrants { supportGrants { ${GRANT_FIELDS} } }`)).supportGrants;
}

/** The companies a break-glass may open: the summary view's, without the disabled ones. */
export async function loadCompanies(): Promise<TenantSummary[]> {
  const { tenants } = await ops<{ tenants: TenantSummary[] }>('query Companies { tenants { id name state } }');
  return tenants.filter((t) => t.state !== 'disabled').sort((a, b) => a.name.localeCompare(b.name));
}

export async function openSession(grant: GrantReview): Promise<SupportSessionOpened> {
  const query = `mutation OpenSupportSession($g: ID!) { openSupportSession(grantId: $g) { token expiresAt grant { ${GRANT_FIELDS} } } }`;
  return (await ops<{ openSupportSession: SupportSessionOpened }>(query, { g: grant.id })).openSupportSession;
}

export interface BreakGlassRequest {
  tenantId: string;
  justification: string;
  caseReference: string;
  reason: string;
}

export async function requestBreakGlass(input: BreakGlassRequest): Promise<GrantReview> {
  const query = `mutation RequestBreakGlass($t: ID!, $j: BreakGlassJustification!, $c: String!, $r: String!) {
    requestBreakGlass(tenantId: $t, justification: $j, caseReference: $c, reason: $r) { ${GRANT_FIELDS} } }`;
  return (await ops<{ requestBreakGlass: GrantReview }>(query, { t: input.tenantId, j: input.justification, c: input.caseReference, r: input.reason })).requestBreakGlass;
}

export async function approveBreakGlass(grant: GrantReview): Promise<GrantReview> {
  return (await ops<{ approveBreakGlass: GrantReview }>(`mutation ApproveBreakGlass($id: ID!) { approveBreakGlass(id: $id) { ${GRANT_FIELDS} } }`, { id: grant.id })).approveBreakGlass;
}
