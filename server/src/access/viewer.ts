import type { ApiKey } from '../api-keys/api-key.entity.ts';
import type { Session } from '../sessions/session.entity.ts';
import type { Tenant } from '../tenants/tenant.entity.ts';
import type { User } from '../users/user.entity.ts';
import type { Role } from './role.entity.ts';
import { type Permission, rolePermissions } from './permissions.ts';

/**
 * What a request knows of its caller: plain values read once per request (entities satisfy these
 * shapes too). Plain, because building ORM entities on every request would cost more than the query.
 */
export type TenantView = Pick<
  Tenant,
  'id' | 'slug' | 'name' | 'createdAt' | 'idleTimeoutSeconds' | 'absoluteTimeoutSeconds' | 'rotationIntervalSeconds' | 'rotationGraceSeconds' | 'apiKeyMaxAgeDays'
>;
export type RoleView = Pick<Role, 'id' | 'name' | 'description' | 'permissions' | 'builtIn' | 'createdAt' | 'updatedAt'>;
export type UserView = Pick<
  User,
  'id' | 'email' | 'displayName' | 'disabledAt' | 'createdAt' | 'passwordChangedAt' | 'totpEnabledAt' | 'totpLastStep'
> & { role: RoleView };
export type SessionView = Pick<
  Session,
  'id' | 'secretHash' | 'previousSecretHash' | 'previousValidUntil' | 'createdAt' | 'rotatedAt' | 'lastSeenAt' | 'expiresAt' | 'ip' | 'userAgent' | 'authMethod' | 'endedAt' | 'endReason'
> & { user: { id: string } };
export type ApiKeyView = Pick<ApiKey, 'id' | 'prefix' | 'secretHash' | 'permissions' | 'expiresAt' | 'lastUsedAt' | 'revokedAt' | 'validUntil'> & { user: { id: string } };

interface ViewerBase {
  tenantId: string;
  tenant: TenantView;
  user: UserView;
  /** Loaded from the database on every request: a removed permission is gone on the next one. */
  permissions: ReadonlySet<Permission>;
  isOwner: boolean;
}

export interface SessionViewer extends ViewerBase {
  kind: 'session';
  session: SessionView;
}

export interface ApiKeyViewer extends ViewerBase {
  kind: 'api_key';
  apiKeyId: string;
}

/** Who is calling: a signed-in user, or an integrator holding an API key. */
export type Viewer = SessionViewer | ApiKeyViewer;

export function hasPermission(viewer: Viewer | null, permission: Permission): boolean {
  return viewer !== null && viewer.permissions.has(permission);
}

export function sessionViewer(tenant: TenantView, user: UserView, session: SessionView): SessionViewer {
  return {
    kind: 'session',
    tenantId: tenant.id,
    tenant,
    user,
    session,
    permissions: new Set(rolePermissions(user.role)),
    isOwner: user.role.builtIn === 'owner',
  };
}
