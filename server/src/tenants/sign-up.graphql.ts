import { builder } from '../builder.ts';
import { forbidden } from '../errors.ts';
import { AuthPayloadRef, signedInPayload } from '../sessions/auth-payload.graphql.ts';
import { signUp } from './sign-up.ts';

const SignUpInput = builder.inputType('SignUpInput', {
  fields: (t) => ({
    tenantName: t.string({ required: true }),
    tenantSlug: t.string({ required: true, description: 'The company address used to sign in: lowercase letters, digits, hyphens.' }),
    email: t.string({ required: true }),
    password: t.string({ required: true, description: '12 to 256 characters, not a common password.' }),
    displayName: t.string({ required: true }),
  }),
});

builder.mutationField('signUp', (t) =>
  t.field({
    type: AuthPayloadRef,
    description: 'Creates a company and its owner, and signs the owner in.',
    authScopes: { public: true },
    args: { input: t.arg({ type: SignUpInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      if (!ctx.services.config.signUpOpen) throw forbidden('Sign-up is closed on this installation: the operator creates companies.');
      return signedInPayload(ctx, await signUp(ctx.services, ctx.meta, input));
    },
  }),
);

builder.queryField('firstRun', (t) =>
  t.boolean({
    description: 'True while no company exists and sign-up is open: the dashboard opens on "Create your company".',
    authScopes: { public: true },
    resolve: async (_root, _args, ctx) => ctx.services.config.signUpOpen && !(await ctx.services.locators.anyTenant()),
  }),
);

builder.queryField('signUpOpen', (t) =>
  t.boolean({
    description: 'Whether signUp is open here (SIGN_UP): the dashboard shows "Create your company" only then.',
    authScopes: { public: true },
    resolve: (_root, _args, ctx) => ctx.services.config.signUpOpen,
  }),
);
