import { builder } from '../builder.ts';
import { PERMISSIONS, type Permission, rolePermissions } from './permissions.ts';
import type { RoleView } from './viewer.ts';

export const PermissionRef = builder.objectRef<Permission>('Permission').implement({
  description: 'One entry of the fixed permission catalogue.',
  authScopes: { authenticated: true },
  fields: (t) => ({
    name: t.string({ resolve: (p) => p }),
    description: t.string({ resolve: (p) => PERMISSIONS[p] }),
  }),
});

export const RoleRef = builder.objectRef<RoleView>('Role').implement({
  authScopes: { authenticated: true },
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    description: t.exposeString('description'),
    permissions: t.stringList({ resolve: (role) => rolePermissions(role) }),
    builtIn: t.boolean({ resolve: (role) => role.builtIn !== null }),
    isOwner: t.boolean({ resolve: (role) => role.builtIn === 'owner' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});
