import { wrap } from '@mikro-orm/core';
import { RoleRef } from '../access/role.graphql.ts';
import { builder } from '../builder.ts';
import type { User } from './user.entity.ts';

export const UserStatus = builder.enumType('UserStatus', { values: ['ACTIVE', 'DISABLED'] as const });

export const UserRef = builder.objectRef<User>('User').implement({
  authScopes: { authenticated: true },
  fields: (t) => ({
    id: t.exposeID('id'),
    email: t.exposeString('email'),
    displayName: t.exposeString('displayName'),
    role: t.field({
      type: RoleRef,
      resolve: async (user) => {
        if (!wrap(user.role).isInitialized()) await wrap(user.role).init();
        return user.role;
      },
    }),
    status: t.field({ type: UserStatus, resolve: (user) => (user.disabledAt ? 'DISABLED' : 'ACTIVE') }),
    totpEnabled: t.boolean({ resolve: (user) => user.totpEnabledAt !== null }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});
