import type { Session } from '../sessions/session.entity.ts';
import type { Tenant } from '../tenants/tenant.entity.ts';
import type { User } from '../users/user.entity.ts';
import type { Permission } from './permissions.ts';

interface ViewerBase {
  tenantId: string;
  tenant: Tenant;
  user: User;
  /** Loaded from the database on every request: a removed permission is gone on the next one. */
  permissions: ReadonlySet<Permission>;
  isOwner: boolean;
}

export interface SessionViewer extends ViewerBase {
  kind: 'session';
  session: Session;
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
