import { Utils, wrap } from '@mikro-orm/core';
import { RoleRef } from '../access/role.graphql.ts';
import { VIEWER_DEPENDENT, builder } from '../builder.ts';
import { tenantEmOf, viewerOf } from '../context.ts';
import { SignInThrottle } from '../sessions/sign-in-throttle.entity.ts';
import { accountKey } from '../sessions/sign-in-throttle.ts';
import type { UserView } from '../access/viewer.ts';

export const UserStatus = builder.enumType('UserStatus', { values: ['ACTIVE', 'DISABLED'] as const });

export const UserRef = builder.objectRef<UserView>('User').implement({
  authScopes: { authenticated: true },
  fields: (t) => ({
    id: t.exposeID('id'),
    email: t.exposeString('email'),
    displayName: t.exposeString('displayName'),
    role: t.field({
      type: RoleRef,
      resolve: async (user) => {
        // The viewer's user carries its role as plain values; an entity's role may still be a reference.
        if (Utils.isEntity(user.role) && !wrap(user.role).isInitialized()) await wrap(user.role).init();
        return user.role;
      },
    }),
    status: t.field({ type: UserStatus, resolve: (user) => (user.disabledAt ? 'DISABLED' : 'ACTIVE') }),
    totpEnabled: t.boolean({ resolve: (user) => user.totpEnabledAt !== null }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

builder.objectField(UserRef, 'lockedUntil', (t) =>
  t.field({
    type: 'DateTime',
    nullable: true,
    description: 'Set while sign-ins to this account are locked after repeated failures (see unlockUser).',
    // Your own, or anyone's with users.read: two users with the same rights may see it differently.
    extensions: VIEWER_DEPENDENT,
    authScopes: (user, _args, ctx) => (ctx.viewer?.user.id === user.id ? { authenticated: true } : { permission: 'users.read' }),
    resolve: async (user, _args, ctx) => {
      const viewer = viewerOf(ctx);
      const state = await tenantEmOf(ctx).findOne(SignInThrottle, accountKey(viewer.tenant.slug, user.email));
      return state?.lockedUntil && state.lockedUntil > ctx.services.clock.now() ? state.lockedUntil : null;
    },
  }),
);
