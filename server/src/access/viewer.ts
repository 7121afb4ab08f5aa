import type { ApiKey } from '../api-keys/api-key.entity.ts';
import type { Session } from '../sessions/session.entity.ts';
import type { Tenant } from '../tenants/tenant.entity.ts';
import type { User } from '../users/user.entity.ts';
import type { Role } from './role.entity.ts';
import { type Permission, rolePermissions } from './permissions.ts';

/**
 * What a request knows of its caller: plain values read once per request (entities satisfy these
 * shapes too). Plain, because building ORM entities on every request would cost more than the query.
 * Each list is both the view's type and what the credential lookup reads of the row (rowReader): a
 * property added here is read with no other edit, and one left out (a password hash) is never read.
 */
export const TENANT_VIEW = [
  'id',
  'slug',
  'name',
  'createdAt',
  'idleTimeoutSeconds',
  'absoluteTimeoutSeconds',
  'rotationIntervalSeconds',
  'rotationGraceSeconds',
  'apiKeyMaxAgeDays',
  'disabledAt',
] as const satisfies ReadonlyArray<keyof Tenant>;
export const ROLE_VIEW = ['id', 'name', 'description', 'permissions', 'builtIn', 'createdAt', 'updatedAt'] as const satisfies ReadonlyArray<keyof Role>;
export const USER_VIEW = ['id', 'email', 'displayName', 'disabledAt', 'createdAt', 'passwordChangedAt', 'totpEnabledAt', 'totpLastStep', 'passwordChangeRequired'] as const satisfies ReadonlyArray<keyof User>;
export const SESSION_VIEW = [
  'id',
  'user',
  'secretHash',
  'previousSecretHash',
  'previousValidUntil',
  'createdAt',
  'rotatedAt',
  'lastSeenAt',
  'expiresAt',
  'ip',
  'userAgent',
  'authMethod',
  'steppedUpAt',
  'endedAt',
  'endReason',
] as const satisfies ReadonlyArray<keyof Session>;
export const API_KEY_VIEW = ['id', 'user', 'prefix', 'secretHash', 'permissions', 'expiresAt', 'lastUsedAt', 'revokedAt', 'validUntil'] as const satisfies ReadonlyArray<keyof ApiKey>;

/** A reference to another row, as a view holds it: its id only. */
type Ref = { id: string };

export type TenantView = Pick<Tenant, (typeof TENANT_VIEW)[number]>;
export type RoleView = Pick<Role, (typeof ROLE_VIEW)[number]>;
export type UserView = Pick<User, (typeof USER_VIEW)[number]> & { role: RoleView };
export type SessionView = Omit<Pick<Session, (typeof SESSION_VIEW)[number]>, 'user'> & { user: Ref };
export type ApiKeyView = Omit<Pick<ApiKey, (typeof API_KEY_VIEW)[number]>, 'user'> & { user: Ref };

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

/**
 * A platform operator reading the company under a support grant (support/): read-only, with the rights of the
 * grant's scopes. Its `user` is the operator as the company's views show a person (a role of the grant's
 * rights, no row of the company): every read that keys on the caller finds nothing of theirs.
 */
export interface SupportViewer extends ViewerBase {
  kind: 'support';
  supportSessionId: string;
  grantId: string;
  operatorId: string;
  caseReference: string;
  /** When the grant (or the session under it) ends if nobody revokes it. */
  expiresAt: Date;
}

/** Who is calling: a signed-in user, an integrator holding an API key, or support under a grant. */
export type Viewer = SessionViewer | ApiKeyViewer | SupportViewer;

/**
 * Support's reads are journalled apart, one support.access per operation before it runs
 * (support/support-journal.ts), in a read-only transaction: the reads' own journal entries are not theirs.
 */
export function readsJournalledApart(viewer: Viewer | null): boolean {
  return viewer?.kind === 'support';
}

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

/** How long a proof of the user (sign-in or stepUp) lets a session do sensitive things. */
export const STEP_UP_MAX_AGE_SECONDS = 300;

/**
 * Whether the caller proved who they are within STEP_UP_MAX_AGE_SECONDS: a session's sign-in counts as
 * a proof, and so does each stepUp. An API key never has one: it stands for no person at a keyboard.
 */
export function hasFreshProof(viewer: Viewer | null, now: Date): boolean {
  return viewer?.kind === 'session' && provedRecently(viewer.session, now);
}

/** The rule for any session, a tenant user's or a platform operator's: signed in or stepped up lately. */
export function provedRecently(session: { createdAt: Date; steppedUpAt?: Date | null }, now: Date): boolean {
  const provedAt = Math.max(session.createdAt.getTime(), session.steppedUpAt?.getTime() ?? 0);
  return now.getTime() - provedAt <= STEP_UP_MAX_AGE_SECONDS * 1000;
}
