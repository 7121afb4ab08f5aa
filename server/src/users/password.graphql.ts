import { builder } from '../builder.ts';
import { sessionViewerOf } from '../context.ts';
import { type EmailChanged, changeEmail } from './change-email.ts';
import { changePassword } from './change-password.ts';

const PasswordChangedRef = builder.objectRef<{ token: string; sessionsEnded: number }>('PasswordChanged').implement({
  authScopes: { authenticated: true },
  fields: (t) => ({
    token: t.exposeString('token', { description: "This session's new token (the cookie is updated too)." }),
    sessionsEnded: t.exposeInt('sessionsEnded'),
  }),
});

const ChangePasswordInput = builder.inputType('ChangePasswordInput', {
  fields: (t) => ({
    currentPassword: t.string({ required: true }),
    newPassword: t.string({ required: true }),
    endOtherSessions: t.boolean({ defaultValue: true, description: 'End every other session (the default).' }),
  }),
});

builder.mutationField('changePassword', (t) =>
  t.field({
    type: PasswordChangedRef,
    description: 'Needs the current password; ends your other sessions by default, rotates this one and your API keys.',
    authScopes: { session: true },
    args: { input: t.arg({ type: ChangePasswordInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const viewer = sessionViewerOf(ctx);
      const result = await changePassword(ctx, viewer, input);
      ctx.cookies?.setSession(result.token, viewer.session.expiresAt);
      return result;
    },
  }),
);

const EmailChangedRef = builder.objectRef<EmailChanged>('EmailChanged').implement({
  authScopes: { authenticated: true },
  fields: (t) => ({
    email: t.exposeString('email'),
    token: t.exposeString('token', { description: "This session's new token (the cookie is updated too)." }),
    sessionsEnded: t.exposeInt('sessionsEnded'),
  }),
});

const ChangeEmailInput = builder.inputType('ChangeEmailInput', {
  fields: (t) => ({ newEmail: t.string({ required: true }), currentPassword: t.string({ required: true }) }),
});

builder.mutationField('changeEmail', (t) =>
  t.field({
    type: EmailChangedRef,
    description: 'Needs the current password; ends your other sessions, rotates this one, and rotates your API keys without grace (revealRotatedApiKey shows each new secret once).',
    authScopes: { session: true },
    args: { input: t.arg({ type: ChangeEmailInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const viewer = sessionViewerOf(ctx);
      const result = await changeEmail(ctx, viewer, input);
      ctx.cookies?.setSession(result.token, viewer.session.expiresAt);
      return result;
    },
  }),
);
