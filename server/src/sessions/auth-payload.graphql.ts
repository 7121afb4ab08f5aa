import { builder } from '../builder.ts';
import type { Context } from '../context.ts';
import { TenantRef } from '../tenants/tenant.graphql.ts';
import { UserRef } from '../users/user.graphql.ts';
import { type SessionView, sessionViewer } from '../access/viewer.ts';
import type { SignedIn } from './sessions.ts';
import { SessionRef } from './session.graphql.ts';

interface AuthPayload {
  token: string;
  user: SignedIn['user'];
  tenant: SignedIn['tenant'];
  session: SessionView;
}

export const AuthPayloadRef = builder.objectRef<AuthPayload>('AuthPayload').implement({
  description: 'A new session. The token is shown here only: keep it secret.',
  authScopes: { public: true },
  fields: (t) => ({
    token: t.exposeString('token', { description: 'The session token, `<sessionId>.<secret>`: send it as a Bearer token or rely on the cookie.' }),
    user: t.field({ type: UserRef, resolve: (p) => p.user }),
    tenant: t.field({ type: TenantRef, resolve: (p) => p.tenant }),
    session: t.field({ type: SessionRef, resolve: (p) => p.session }),
  }),
});

/**
 * Hands a fresh session to the client (cookie for browsers, token in the payload for apps) and makes
 * it the viewer for the rest of this request, so the payload's fields resolve as the new user.
 */
export function signedInPayload(ctx: Context, signedIn: SignedIn): AuthPayload {
  const { session, token, user, tenant, deviceToken } = signedIn;
  ctx.cookies?.setSession(token, session.expiresAt);
  if (deviceToken) ctx.cookies?.setDevice(deviceToken);
  ctx.viewer = sessionViewer(tenant, user, session);
  ctx.em = ctx.services.db.forTenant(tenant.id);
  return { token, user, tenant, session };
}
