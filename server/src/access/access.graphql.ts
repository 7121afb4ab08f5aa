import { builder, sensitive } from '../builder.ts';
import { tenantEmOf } from '../context.ts';
import { asViewer } from '../unit-of-work.ts';
import { withoutNulls } from '../validation.ts';
import { ALL_PERMISSIONS } from './permissions.ts';
import { PermissionRef, RoleRef } from './role.graphql.ts';
import { Role } from './role.entity.ts';
import { createRole, deleteRole, updateRole } from './roles.ts';

const RoleInput = builder.inputType('RoleInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    description: t.string(),
    permissions: t.stringList({ required: true, description: 'Permissions from the catalogue that you hold yourself.' }),
  }),
});

const RoleChanges = builder.inputType('RoleChanges', {
  fields: (t) => ({ name: t.string(), description: t.string(), permissions: t.stringList() }),
});

builder.queryFields((t) => ({
  permissions: t.field({
    type: [PermissionRef],
    description: 'The fixed catalogue of permissions, with what each allows.',
    authScopes: { authenticated: true },
    resolve: () => ALL_PERMISSIONS,
  }),
  roles: t.field({
    type: [RoleRef],
    description: "The company's roles: the four built-in ones and its custom roles.",
    authScopes: { authenticated: true },
    resolve: (_root, _args, ctx) => tenantEmOf(ctx).find(Role, {}, { orderBy: { createdAt: 'asc', name: 'asc' } }),
  }),
}));

builder.mutationFields((t) => ({
  createRole: t.field({
    type: RoleRef,
    authScopes: { permission: 'roles.manage' },
    args: { input: t.arg({ type: RoleInput, required: true }) },
    resolve: (_root, { input }, ctx) => asViewer(ctx, createRole, input),
  }),
  updateRole: t.field({
    type: RoleRef,
    description: "Takes effect on the next request of everyone holding the role. Changing its permissions needs a fresh proof (stepUp).",
    // A new name or description grants nothing; new permissions reach everyone holding the role.
    authScopes: (_root, args) => (args.input.permissions ? sensitive({ permission: 'roles.manage' }) : { permission: 'roles.manage' }),
    args: { id: t.arg.id({ required: true }), input: t.arg({ type: RoleChanges, required: true }) },
    resolve: (_root, args, ctx) => asViewer(ctx, updateRole, { id: String(args.id), changes: withoutNulls(args.input) }),
  }),
  deleteRole: t.field({
    type: RoleRef,
    authScopes: { permission: 'roles.manage' },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => asViewer(ctx, deleteRole, String(args.id)),
  }),
}));
