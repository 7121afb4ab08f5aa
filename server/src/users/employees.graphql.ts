import { builder, sensitive } from '../builder.ts';
import { tenantEmOf } from '../context.ts';
import { AuthPayloadRef, signedInPayload } from '../sessions/auth-payload.graphql.ts';
import { findUserOrNotFound } from '../sessions/session-management.ts';
import { asViewer } from '../unit-of-work.ts';
import { RoleRef } from '../access/role.graphql.ts';
import { disableUser, enableUser, listUsers, setUserRole, unlockUser } from './employees.ts';
import type { Invitation } from './invitation.entity.ts';
import { acceptInvitation, inviteUser } from './invitations.ts';
import type { PasswordReset } from './password-reset.entity.ts';
import { completePasswordReset, resetUserPassword } from './password-reset.ts';
import { UserRef } from './user.graphql.ts';

const InvitationRef = builder.objectRef<Invitation>('Invitation').implement({
  authScopes: { authenticated: true },
  fields: (t) => ({
    id: t.exposeID('id'),
    email: t.exposeString('email'),
    role: t.field({ type: RoleRef, resolve: (i) => i.role }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
  }),
});

const InvitationWithTokenRef = builder.objectRef<{ invitation: Invitation; token: string }>('InvitationWithToken').implement({
  description: 'The invitation token is shown this once: pass it to the employee over a channel you trust.',
  authScopes: { authenticated: true },
  fields: (t) => ({
    invitation: t.field({ type: InvitationRef, resolve: (p) => p.invitation }),
    token: t.exposeString('token'),
  }),
});

const PasswordResetWithTokenRef = builder.objectRef<{ reset: PasswordReset; token: string }>('PasswordResetWithToken').implement({
  description: 'The reset token is shown this once: pass it to the employee over a channel you trust.',
  authScopes: { authenticated: true },
  fields: (t) => ({
    userId: t.id({ resolve: (p) => p.reset.user.id }),
    expiresAt: t.field({ type: 'DateTime', resolve: (p) => p.reset.expiresAt }),
    token: t.exposeString('token'),
  }),
});

const CompletePasswordResetInput = builder.inputType('CompletePasswordResetInput', {
  fields: (t) => ({ token: t.string({ required: true }), newPassword: t.string({ required: true }) }),
});

const AcceptInvitationInput = builder.inputType('AcceptInvitationInput', {
  fields: (t) => ({ token: t.string({ required: true }), password: t.string({ required: true }), displayName: t.string({ required: true }) }),
});

builder.queryFields((t) => ({
  users: t.field({
    type: [UserRef],
    description: "The company's employees with their role and status.",
    authScopes: { permission: 'users.read' },
    resolve: (_root, _args, ctx) => listUsers(tenantEmOf(ctx)),
  }),
  user: t.field({
    type: UserRef,
    authScopes: { permission: 'users.read' },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => findUserOrNotFound(tenantEmOf(ctx), String(args.id)),
  }),
}));

builder.mutationFields((t) => ({
  inviteUser: t.field({
    type: InvitationWithTokenRef,
    authScopes: { permission: 'users.invite' },
    args: { email: t.arg.string({ required: true }), roleId: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => asViewer(ctx, inviteUser, { email: args.email, roleId: String(args.roleId) }),
  }),
  acceptInvitation: t.field({
    type: AuthPayloadRef,
    description: 'Creates your account from an invitation and signs you in.',
    authScopes: { public: true },
    args: { input: t.arg({ type: AcceptInvitationInput, required: true }) },
    resolve: async (_root, { input }, ctx) => signedInPayload(ctx, await acceptInvitation(ctx.services, ctx.meta, input)),
  }),
  setUserRole: t.field({
    type: UserRef,
    description: "Takes effect on the employee's next request and rotates their session token. Needs a fresh proof (stepUp).",
    authScopes: sensitive({ permission: 'users.manage' }),
    args: { userId: t.arg.id({ required: true }), roleId: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => asViewer(ctx, setUserRole, { userId: String(args.userId), roleId: String(args.roleId) }),
  }),
  disableUser: t.field({
    type: UserRef,
    description: 'Ends all their sessions at once and stops their API keys.',
    authScopes: { permission: 'users.manage' },
    args: { userId: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => asViewer(ctx, disableUser, String(args.userId)),
  }),
  enableUser: t.field({
    type: UserRef,
    authScopes: { permission: 'users.manage' },
    args: { userId: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => asViewer(ctx, enableUser, String(args.userId)),
  }),
  resetUserPassword: t.field({
    type: PasswordResetWithTokenRef,
    description:
      "Owner only. The employee's password stops working, their sessions end and their API keys rotate at once; the token lets them set a new one (24 hours, once). Needs a fresh proof (stepUp).",
    authScopes: sensitive({ permission: 'users.manage' }),
    args: { userId: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => resetUserPassword(ctx, String(args.userId)),
  }),
  completePasswordReset: t.field({
    type: AuthPayloadRef,
    description: "Sets your new password with the owner's reset token and signs you in (or asks for your confirmation code).",
    authScopes: { public: true },
    args: { input: t.arg({ type: CompletePasswordResetInput, required: true }) },
    resolve: async (_root, { input }, ctx) => signedInPayload(ctx, await completePasswordReset(ctx.services, ctx.meta, input)),
  }),
  unlockUser: t.field({
    type: UserRef,
    description: 'Lifts a sign-in lock on the account before it runs out.',
    authScopes: { permission: 'users.manage' },
    args: { userId: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => asViewer(ctx, unlockUser, String(args.userId)),
  }),
}));
