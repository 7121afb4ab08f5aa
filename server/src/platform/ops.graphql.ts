import { STEP_UP_MAX_AGE_SECONDS } from '../access/viewer.ts';
import { ErrorCode, clientError } from '../errors.ts';
import { OPS_SENSITIVE, opsBuilder } from './ops-builder.ts';
import type { OpsContext } from './ops-context.ts';
import { PlatformOperator } from './operator.entity.ts';
import { type PlatformEvent, authenticatedPayload, platformJournal, signInPayload } from './ops-reads.ts';
import { operatorSignIn, operatorSignOut, operatorStepUp } from './operator-sessions.ts';
import type { OperatorViewer } from './operator-viewer.ts';
import { asOperator } from './operator-work.ts';
import { approveOperator } from './operators.ts';
import { TenantSummary } from './tenant-summary.entity.ts';

const signedIn = (ctx: OpsContext): OperatorViewer => {
  if (!ctx.operator) throw clientError(ErrorCode.UNAUTHENTICATED);
  return ctx.operator;
};

const OperatorRef = opsBuilder.objectRef<PlatformOperator>('Operator').implement({
  description: 'One of the vendor\'s (at most two) platform operators.',
  authScopes: { operator: true },
  fields: (t) => ({
    id: t.exposeID('id'),
    email: t.exposeString('email'),
    displayName: t.exposeString('displayName'),
    slot: t.int({ description: 'Their seat (1 or 2): the database holds no third.', resolve: (o) => o.slot.slot }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    approvedAt: t.expose('approvedAt', { type: 'DateTime', nullable: true, description: 'Null while waiting for the other operator.' }),
    disabledAt: t.expose('disabledAt', { type: 'DateTime', nullable: true }),
  }),
});

const CurrentOperatorRef = opsBuilder.objectRef<OperatorViewer>('CurrentOperator').implement({
  authScopes: { operator: true },
  fields: (t) => ({
    id: t.id({ resolve: (v) => v.operator.id }),
    email: t.string({ resolve: (v) => v.operator.email }),
    displayName: t.string({ resolve: (v) => v.operator.displayName }),
    slot: t.int({ resolve: (v) => v.operator.slot }),
    sessionExpiresAt: t.field({ type: 'DateTime', description: 'The absolute end of this sign-in (8 hours); 15 idle minutes end it sooner.', resolve: (v) => v.session.expiresAt }),
    proofValidUntil: t.field({
      type: 'DateTime',
      description: 'Approvals need a proof younger than five minutes (operatorStepUp).',
      resolve: (v) => new Date(Math.max(v.session.createdAt.getTime(), v.session.steppedUpAt?.getTime() ?? 0) + STEP_UP_MAX_AGE_SECONDS * 1000),
    }),
  }),
});

const TenantSummaryRef = opsBuilder.objectRef<TenantSummary>('TenantSummary').implement({
  description: 'All an operator sees of a company: no user, session, key or journal entry of it.',
  authScopes: { operator: true },
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    state: t.exposeString('state'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    userCount: t.exposeInt('userCount'),
  }),
});

const PlatformEventRef = opsBuilder.objectRef<PlatformEvent>('PlatformEvent').implement({
  description: "An entry of the platform journal: the operators' own work, chained like a company's journal.",
  authScopes: { operator: true },
  fields: (t) => ({
    seq: t.int({ resolve: (e) => Number(e.seq) }),
    occurredAt: t.expose('occurredAt', { type: 'DateTime' }),
    action: t.exposeString('action'),
    outcome: t.exposeString('outcome'),
    actorType: t.exposeString('actorType'),
    actorId: t.exposeID('actorId', { nullable: true }),
    targetType: t.exposeString('targetType', { nullable: true }),
    targetId: t.exposeID('targetId', { nullable: true }),
    details: t.expose('details', { type: 'JSONObject' }),
    hash: t.exposeString('hash'),
  }),
});

const OperatorAuthRef = opsBuilder.objectRef<{ token: string; viewer: OperatorViewer }>('OperatorAuth').implement({
  authScopes: { public: true },
  fields: (t) => ({
    token: t.exposeString('token', { description: 'Also set as the __Host-vigil-op cookie over TLS; for API clients only.' }),
    operator: t.field({ type: CurrentOperatorRef, resolve: (p) => p.viewer }),
  }),
});

const SignInInput = opsBuilder.inputType('OperatorSignInInput', {
  fields: (t) => ({ email: t.string({ required: true }), password: t.string({ required: true }), totpCode: t.string({ required: true }) }),
});
const ProofInput = opsBuilder.inputType('OperatorProofInput', {
  fields: (t) => ({ password: t.string({ required: true }), totpCode: t.string({ required: true }) }),
});

opsBuilder.queryFields((t) => ({
  me: t.field({ type: CurrentOperatorRef, nullable: true, description: 'The signed-in operator, or null.', authScopes: { public: true }, resolve: (_r, _a, ctx) => ctx.operator }),
  operators: t.field({
    type: [OperatorRef],
    authScopes: { operator: true },
    resolve: (_r, _a, ctx) => asOperator(ctx, ({ em }) => em.find(PlatformOperator, {}, { orderBy: { slot: 'asc' } })),
  }),
  tenants: t.field({
    type: [TenantSummaryRef],
    description: 'Every company, as the narrow summary view shows it.',
    authScopes: { operator: true },
    resolve: (_r, _a, ctx) => asOperator(ctx, ({ em }) => em.find(TenantSummary, {}, { orderBy: { createdAt: 'asc', id: 'asc' } })),
  }),
  platformJournal: t.field({
    type: [PlatformEventRef],
    description: 'The platform journal, newest first: up to `first` (at most 200) entries before `beforeSeq`.',
    authScopes: { operator: true },
    args: { beforeSeq: t.arg.int(), first: t.arg.int({ defaultValue: 50 }) },
    resolve: (_r, args, ctx) => asOperator(ctx, ({ em }) => platformJournal(em, args.beforeSeq ?? null, args.first ?? 50)),
  }),
}));

opsBuilder.mutationFields((t) => ({
  operatorSignIn: t.field({
    type: OperatorAuthRef,
    description: 'Password and confirmation code, always: TOTP is mandatory for operators.',
    authScopes: { public: true },
    args: { input: t.arg({ type: SignInInput, required: true }) },
    resolve: async (_r, { input }, ctx) => signInPayload(ctx, await operatorSignIn(ctx.services, ctx.meta, input)),
  }),
  operatorStepUp: t.field({
    type: CurrentOperatorRef,
    description: 'Proves it is you again for approvals; a request refused with STEP_UP_REQUIRED then succeeds when sent again.',
    authScopes: { operator: true },
    args: { input: t.arg({ type: ProofInput, required: true }) },
    resolve: async (_r, { input }, ctx) => authenticatedPayload(ctx, await operatorStepUp(ctx.services, ctx.meta, signedIn(ctx), input)),
  }),
  operatorSignOut: t.boolean({
    authScopes: { operator: true },
    resolve: async (_r, _a, ctx) => {
      await operatorSignOut(ctx.services, ctx.meta, signedIn(ctx));
      ctx.cookies?.clear();
      return true;
    },
  }),
  approveOperator: t.field({
    type: OperatorRef,
    description: 'Lets the second operator in. Needs a fresh proof (operatorStepUp).',
    authScopes: OPS_SENSITIVE,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_r, args, ctx) => asOperator(ctx, (work) => approveOperator(work, String(args.id))),
  }),
}));
