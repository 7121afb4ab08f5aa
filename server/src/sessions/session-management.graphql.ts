import { VIEWER_DEPENDENT, builder } from '../builder.ts';
import { tenantEmOf, viewerOf } from '../context.ts';
import { asViewer } from '../unit-of-work.ts';
import { UserRef } from '../users/user.graphql.ts';
import { findUserOrNotFound, listSessions, revokeEmployeeSessions, revokeOneSession, revokeOwnSessions } from './session-management.ts';
import { SessionRef } from './session.graphql.ts';
import { User } from '../users/user.entity.ts';
import { ViewerRef } from '../access/viewer.graphql.ts';

builder.objectField(ViewerRef, 'sessions', (t) =>
  t.field({
    type: [SessionRef],
    description: "The caller's sessions, newest first; `current` marks this one.",
    authScopes: { session: true },
    args: { includeEnded: t.arg.boolean({ defaultValue: false }) },
    resolve: (viewer, args, ctx) => listSessions(tenantEmOf(ctx), viewer.user.id, args.includeEnded ?? false),
  }),
);

builder.objectField(UserRef, 'sessions', (t) =>
  t.field({
    type: [SessionRef],
    description: "This user's active sessions: your own, or anyone's with sessions.read_all.",
    extensions: VIEWER_DEPENDENT,
    authScopes: (user, _args, ctx) => (ctx.viewer?.user.id === user.id ? { authenticated: true } : { permission: 'sessions.read_all' }),
    resolve: (user, _args, ctx) => listSessions(tenantEmOf(ctx), user.id, false),
  }),
);

builder.objectField(SessionRef, 'user', (t) =>
  t.field({ type: UserRef, resolve: (session, _args, ctx) => tenantEmOf(ctx).findOneOrFail(User, session.user.id) }),
);

builder.queryField('userSessions', (t) =>
  t.field({
    type: [SessionRef],
    description: "Another employee's sessions (with ended ones on request).",
    authScopes: { permission: 'sessions.read_all' },
    args: { userId: t.arg.id({ required: true }), includeEnded: t.arg.boolean({ defaultValue: false }) },
    resolve: async (_root, args, ctx) => {
      const user = await findUserOrNotFound(tenantEmOf(ctx), String(args.userId));
      return listSessions(tenantEmOf(ctx), user.id, args.includeEnded ?? false);
    },
  }),
);

builder.mutationFields((t) => ({
  revokeSession: t.field({
    type: SessionRef,
    description: 'Ends one session: your own, or any in the company with sessions.revoke_all.',
    authScopes: { authenticated: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const viewer = viewerOf(ctx);
      const session = await asViewer(ctx, revokeOneSession, String(args.id));
      if (viewer.kind === 'session' && session.id === viewer.session.id) ctx.cookies?.clearSession();
      return session;
    },
  }),
  revokeOtherSessions: t.int({
    description: 'Ends every session of yours but this one; returns how many ended.',
    authScopes: { session: true },
    resolve: async (_root, _args, ctx) => (await asViewer(ctx, revokeOwnSessions, { keepCurrent: true })).length,
  }),
  revokeAllSessions: t.int({
    description: 'Ends every session of yours, this one included: after an incident.',
    authScopes: { session: true },
    resolve: async (_root, _args, ctx) => {
      const ended = await asViewer(ctx, revokeOwnSessions, { keepCurrent: false });
      ctx.cookies?.clearSession();
      return ended.length;
    },
  }),
  revokeUserSessions: t.int({
    description: "Ends every session of an employee; returns how many ended.",
    authScopes: { permission: 'sessions.revoke_all' },
    args: { userId: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => (await asViewer(ctx, revokeEmployeeSessions, String(args.userId))).length,
  }),
}));
