import { builder } from '../builder.ts';
import { type SteppedUp, stepUp } from './step-up.ts';

const StepUpInput = builder.inputType('StepUpInput', {
  fields: (t) => ({
    password: t.string({ required: true }),
    totpCode: t.string({ description: 'The current code of your authenticator app, when confirmation codes are on.' }),
    recoveryCode: t.string({ description: 'Instead of a code, one of your recovery codes (it is used up).' }),
  }),
});

const SteppedUpRef = builder.objectRef<SteppedUp>('SteppedUp').implement({
  authScopes: { session: true },
  fields: (t) => ({
    provedAt: t.expose('provedAt', { type: 'DateTime' }),
    validUntil: t.expose('validUntil', { type: 'DateTime', description: 'Operations that ask for a fresh proof are open to this session until then.' }),
  }),
});

builder.mutationField('stepUp', (t) =>
  t.field({
    type: SteppedUpRef,
    description:
      'Proves it is you again (password, and code when on) for this session. An operation refused with STEP_UP_REQUIRED succeeds when sent again within maxAgeSeconds.',
    authScopes: { session: true },
    args: { input: t.arg({ type: StepUpInput, required: true }) },
    resolve: (_root, { input }, ctx) => stepUp(ctx, input),
  }),
);
