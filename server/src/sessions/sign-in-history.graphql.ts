import { AuditEventConnectionRef } from '../audit/audit.graphql.ts';
import { MAX_PAGE_SIZE, searchAuditEvents } from '../audit/search.ts';
import { builder } from '../builder.ts';
import { tenantEmOf, viewerOf } from '../context.ts';
import { forbidden } from '../errors.ts';
import { findUserOrNotFound } from './session-management.ts';
import { actionsWhere } from '../audit/actions.ts';

export const SIGN_IN_ACTIONS = actionsWhere((meaning) => meaning.signIn === true);

builder.queryField('signInHistory', (t) =>
  t.field({
    type: AuditEventConnectionRef,
    description: `Successful and failed sign-ins, newest first, from the journal: yours, or an employee's with sessions.read_all. At most ${MAX_PAGE_SIZE} per page.`,
    authScopes: { authenticated: true },
    args: { first: t.arg.int({ defaultValue: 20 }), after: t.arg.string(), userId: t.arg.id() },
    resolve: async (_root, args, ctx) => {
      const viewer = viewerOf(ctx);
      const em = tenantEmOf(ctx);
      const userId = args.userId ? String(args.userId) : viewer.user.id;
      if (userId !== viewer.user.id) {
        if (!viewer.permissions.has('sessions.read_all')) throw forbidden();
        await findUserOrNotFound(em, userId);
      }
      return searchAuditEvents(em, { actions: SIGN_IN_ACTIONS, actorId: userId }, args.first ?? 20, args.after ?? null);
    },
  }),
);
