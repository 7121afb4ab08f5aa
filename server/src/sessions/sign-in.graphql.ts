import { builder } from '../builder.ts';
import type { Context } from '../context.ts';
import type { FieldProblem } from '../errors.ts';
import { completeTotpSignIn } from '../mfa/challenges.ts';
import { asViewer } from '../unit-of-work.ts';
import { AuthPayloadRef, signedInPayload } from './auth-payload.graphql.ts';
import { endSessions } from './sessions.ts';
import { refuseMalformedSignIn, signIn } from './sign-in.ts';

const SignInInput = builder.inputType('SignInInput', {
  fields: (t) => ({
    tenantSlug: t.string({ required: true }),
    email: t.string({ required: true }),
    password: t.string({ required: true }),
  }),
});

const CompleteSignInInput = builder.inputType('CompleteSignInInput', {
  fields: (t) => ({
    challenge: t.string({ required: true, description: 'From the TOTP_REQUIRED error of signIn.' }),
    code: t.string({ description: 'The 6-digit code of the authenticator app.' }),
    recoveryCode: t.string({ description: 'One of the recovery codes, instead of a code.' }),
  }),
});

builder.mutationFields((t) => ({
  signIn: t.field({
    type: AuthPayloadRef,
    description:
      'Signs in with a password. With TOTP on, fails with TOTP_REQUIRED carrying `extensions.challenge`: finish with completeSignIn.',
    authScopes: { public: true },
    args: { input: t.arg({ type: SignInInput, required: true }) },
    extensions: {
      onMalformedInput: (ctx: Context, args: { input: Record<string, unknown> }, problems: FieldProblem[]) => refuseMalformedSignIn(ctx.services, ctx.meta, args.input, problems),
    },
    resolve: async (_root, { input }, ctx) => signedInPayload(ctx, await signIn(ctx.services, ctx.meta, input)),
  }),
  completeSignIn: t.field({
    type: AuthPayloadRef,
    description: 'Second step of a TOTP sign-in: the challenge and a code or a recovery code.',
    authScopes: { public: true },
    args: { input: t.arg({ type: CompleteSignInInput, required: true }) },
    resolve: async (_root, { input }, ctx) => signedInPayload(ctx, await completeTotpSignIn(ctx.services, ctx.meta, input)),
  }),
  signOut: t.boolean({
    description: 'Ends the current session server-side. False when there was none.',
    authScopes: { public: true },
    resolve: async (_root, _args, ctx) => {
      ctx.cookies?.clearSession();
      const viewer = ctx.viewer;
      if (viewer?.kind !== 'session') return false;
      await asViewer(ctx, (work, id) => endSessions(work, { ids: [id] }, 'signed_out'), viewer.session.id);
      ctx.viewer = null;
      return true;
    },
  }),
}));
