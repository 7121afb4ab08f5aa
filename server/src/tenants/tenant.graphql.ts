import { builder } from '../builder.ts';
import type { TenantView } from '../access/viewer.ts';

export const SessionPolicyRef = builder.objectRef<TenantView>('SessionPolicy').implement({
  description: 'Session lifetimes of the company, in seconds.',
  authScopes: { authenticated: true },
  fields: (t) => ({
    idleTimeoutSeconds: t.exposeInt('idleTimeoutSeconds'),
    absoluteTimeoutSeconds: t.exposeInt('absoluteTimeoutSeconds'),
    rotationIntervalSeconds: t.exposeInt('rotationIntervalSeconds'),
    rotationGraceSeconds: t.exposeInt('rotationGraceSeconds'),
  }),
});

export const TenantRef = builder.objectRef<TenantView>('Tenant').implement({
  authScopes: { authenticated: true },
  fields: (t) => ({
    id: t.exposeID('id'),
    slug: t.exposeString('slug'),
    name: t.exposeString('name'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    sessionPolicy: t.field({ type: SessionPolicyRef, resolve: (tenant) => tenant }),
  }),
});
