import { builder } from '../builder.ts';
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
    resolve: async (_root, { input }, ctx) => signedInPayload(ctx, await signUp(ctx.services, ctx.meta, input)),
  }),
);
