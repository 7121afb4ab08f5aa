import type { Permission } from '../access/permissions.ts';
import { TENANT_VIEW, type SupportViewer, type TenantView } from '../access/viewer.ts';
import type { RequestAuth } from '../context.ts';
import { jsonOf, rowReader } from '../db/rows.ts';
import type { Services } from '../services.ts';
import { mintPrefixed, readPrefixed, sameHash } from '../tokens.ts';
import type { SupportGrant, SupportScope } from './support-grant.entity.ts';

/** Support sessions' tokens: `vsp_<sessionId>.<secret>`, read only by /graphql, as a read-only caller. */
export const SUPPORT_TOKEN_PREFIX = 'vsp_';

export const mintSupportToken = (sessionId: string) => mintPrefixed(SUPPORT_TOKEN_PREFIX, sessionId);

/** What each scope lets support read: the fields those permissions guard, and no mutation ever. */
export const SCOPE_PERMISSIONS: Record<SupportScope, readonly Permission[]> = {
  journal: ['audit.read'],
  people: ['users.read', 'sessions.read_all'],
  critical_operations: ['company.critical_operations'],
};

const GRANT_VIEW = ['id', 'kind', 'scopes', 'caseReference', 'approvedAt', 'expiresAt', 'revokedAt', 'createdAt'] as const satisfies ReadonlyArray<keyof SupportGrant>;
type GrantView = Pick<SupportGrant, (typeof GRANT_VIEW)[number]>;

interface SupportSnapshot {
  tenant: TenantView;
  grant: GrantView;
  session: { id: string; secretHash: string; operatorId: string; expiresAt: Date };
  operator: { id: string; displayName: string; disabled: boolean };
}

type Row = Record<string, Record<string, unknown>>;
let readers: { tenant: (row: Record<string, unknown>) => TenantView; grant: (row: Record<string, unknown>) => GrantView } | null = null;

/** The session, its grant, company and operator, as vigil_support_session_auth finds them (any tenant). */
export async function supportSnapshot(services: Services, sessionId: string): Promise<SupportSnapshot | null> {
  const [found] = await services.db.prepared<{ row: unknown }>('vigil_support_session_auth', 'select vigil_support_session_auth($1) as row', [sessionId]);
  const row = jsonOf<Row | null>(found?.row ?? null);
  if (!row) return null;
  readers ??= { tenant: rowReader(services.db.orm, 'Tenant', TENANT_VIEW), grant: rowReader(services.db.orm, 'SupportGrant', GRANT_VIEW) };
  const { session, operator } = row;
  return {
    tenant: readers.tenant(row.tenant),
    grant: readers.grant(row.grant),
    session: { id: String(session.id), secretHash: String(session.secret_hash), operatorId: String(session.operator_id), expiresAt: new Date(String(session.expires_at)) },
    operator: { id: String(operator.id), displayName: String(operator.display_name), disabled: operator.disabled_at != null },
  };
}

/**
 * The caller a support session stands for now, or null: the grant approved, not revoked, not past its end,
 * the company not disabled, the operator not disabled. Judged on every request and by open sockets alike.
 */
export function supportViewer(found: SupportSnapshot, now: Date): SupportViewer | null {
  const { tenant, grant, session, operator } = found;
  const expiresAt = new Date(Math.min(grant.expiresAt.getTime(), session.expiresAt.getTime()));
  if (!grant.approvedAt || grant.revokedAt || now >= expiresAt || tenant.disabledAt || operator.disabled) return null;
  const permissions = new Set(grant.scopes.flatMap((scope) => SCOPE_PERMISSIONS[scope as SupportScope] ?? []));
  const role = { id: grant.id, name: 'Platform support (read-only)', description: `Case ${grant.caseReference}`, permissions: [...permissions], builtIn: null, createdAt: grant.createdAt, updatedAt: grant.createdAt };
  return {
    kind: 'support', tenantId: tenant.id, tenant, permissions, isOwner: false,
    supportSessionId: session.id, grantId: grant.id, operatorId: operator.id, caseReference: grant.caseReference, expiresAt,
    user: {
      id: operator.id, email: '', displayName: `Platform support: ${operator.displayName}`, disabledAt: null, createdAt: grant.createdAt,
      passwordChangedAt: grant.createdAt, totpEnabledAt: null, totpLastStep: null, passwordChangeRequired: false, role,
    },
  };
}

export async function authenticateSupport(services: Services, token: string): Promise<RequestAuth> {
  const presented = readPrefixed(SUPPORT_TOKEN_PREFIX, token);
  const found = presented ? await supportSnapshot(services, presented.id) : null;
  if (!presented || !found || !sameHash(presented.secretHash, found.session.secretHash)) return { viewer: null, em: null };
  const viewer = supportViewer(found, services.clock.now());
  return viewer ? { viewer, em: services.db.forTenant(viewer.tenantId) } : { viewer: null, em: null };
}
