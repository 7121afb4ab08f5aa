import { VIEWER_DEPENDENT, builder } from '../builder.ts';
import { SessionRef } from '../sessions/session.graphql.ts';
import { TenantRef } from '../tenants/tenant.graphql.ts';
import { UserRef } from '../users/user.graphql.ts';
import type { Viewer } from './viewer.ts';

export const ViewerRef = builder.objectRef<Viewer>('Viewer').implement({
  description: 'The caller: a signed-in user, or an integrator with an API key.',
  authScopes: { authenticated: true },
  fields: (t) => ({
    user: t.field({ type: UserRef, resolve: (v) => v.user }),
    tenant: t.field({ type: TenantRef, resolve: (v) => v.tenant }),
    session: t.field({ type: SessionRef, nullable: true, description: 'Null for an API key.', resolve: (v) => (v.kind === 'session' ? v.session : null) }),
    apiKeyId: t.id({ nullable: true, resolve: (v) => (v.kind === 'api_key' ? v.apiKeyId : null) }),
    permissions: t.stringList({ resolve: (v) => [...v.permissions].sort() }),
    isOwner: t.exposeBoolean('isOwner'),
  }),
});

builder.queryField('viewer', (t) =>
  t.field({
    type: ViewerRef,
    nullable: true,
    description: 'Who is calling; null when anonymous.',
    authScopes: { public: true },
    extensions: VIEWER_DEPENDENT,
    resolve: (_root, _args, ctx) => ctx.viewer,
  }),
);
