import { enumOf } from './ops-enums.ts';
import { OPS_SENSITIVE, opsBuilder } from './ops-builder.ts';
import { VERIFICATION_METHODS, type ReviewedOperation, approveOperation, denyOperation, holdOperation, reviewedOperations, verifyOperation } from './critical-reviews.ts';
import { asOperator } from './operator-work.ts';

const MethodEnum = enumOf('VerificationMethod', VERIFICATION_METHODS);

const ReviewedRef = opsBuilder.objectRef<ReviewedOperation>('CriticalOperationReview').implement({
  description: "A company's deletion or ownership transfer, as the operator verifying it sees it: no user, session or journal entry of the company.",
  authScopes: { operator: true },
  fields: (t) => ({
    id: t.exposeID('id'),
    tenantId: t.exposeID('tenantId'),
    tenantName: t.exposeString('tenantName'),
    kind: t.exposeString('kind'),
    state: t.exposeString('state'),
    intentHash: t.exposeString('intentHash', { description: 'Approve this exact value: it is the SHA-256 of the parameters.' }),
    params: t.expose('params', { type: 'JSONObject' }),
    reason: t.exposeString('reason'),
    requestedAt: t.expose('requestedAt', { type: 'DateTime' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
    verifiedAt: t.expose('verifiedAt', { type: 'DateTime', nullable: true }),
    verifiedBy: t.exposeID('verifiedBy', { nullable: true }),
    verification: t.expose('verification', { type: 'JSONObject', nullable: true }),
    approvedAt: t.expose('approvedAt', { type: 'DateTime', nullable: true }),
    approvedBy: t.exposeID('approvedBy', { nullable: true }),
    acceptBy: t.expose('acceptBy', { type: 'DateTime', nullable: true }),
    acceptedAt: t.expose('acceptedAt', { type: 'DateTime', nullable: true }),
    executesAt: t.expose('executesAt', { type: 'DateTime', nullable: true }),
    executedAt: t.expose('executedAt', { type: 'DateTime', nullable: true }),
    purgeAt: t.expose('purgeAt', { type: 'DateTime', nullable: true }),
    legalHold: t.exposeBoolean('legalHold'),
    closedAt: t.expose('closedAt', { type: 'DateTime', nullable: true }),
    closeReason: t.exposeString('closeReason', { nullable: true }),
  }),
});


opsBuilder.queryField('criticalOperations', (t) =>
  t.field({
    type: [ReviewedRef],
    description: 'The queue: every company\'s deletions and transfers, newest first.',
    authScopes: { operator: true },
    resolve: (_r, _a, ctx) => asOperator(ctx, ({ em }) => reviewedOperations(em)),
  }),
);

opsBuilder.mutationFields((t) => ({
  verifyCriticalOperation: t.field({
    type: ReviewedRef,
    description: 'Records the out-of-band check (how, and the ticket or call). Needs a fresh proof (operatorStepUp).',
    authScopes: OPS_SENSITIVE,
    args: { id: t.arg.id({ required: true }), intentHash: t.arg.string({ required: true }), method: t.arg({ type: MethodEnum, required: true }), reference: t.arg.string({ required: true }) },
    resolve: (_r, args, ctx) => asOperator(ctx, (work) => verifyOperation(work, { ...args, id: String(args.id) })),
  }),
  approveCriticalOperation: t.field({
    type: ReviewedRef,
    description: 'Approves exactly the parameters whose hash is given. Needs a fresh proof (operatorStepUp).',
    authScopes: OPS_SENSITIVE,
    args: { id: t.arg.id({ required: true }), intentHash: t.arg.string({ required: true }) },
    resolve: (_r, args, ctx) => asOperator(ctx, (work) => approveOperation(work, { ...args, id: String(args.id) })),
  }),
  denyCriticalOperation: t.field({
    type: ReviewedRef,
    authScopes: { operator: true },
    args: { id: t.arg.id({ required: true }), reason: t.arg.string({ required: true }) },
    resolve: (_r, args, ctx) => asOperator(ctx, (work) => denyOperation(work, { ...args, id: String(args.id) })),
  }),
  setLegalHold: t.field({
    type: ReviewedRef,
    description: "Keeps (or releases) a deleted company's data past its purge date. Needs a fresh proof (operatorStepUp).",
    authScopes: OPS_SENSITIVE,
    args: { id: t.arg.id({ required: true }), legalHold: t.arg.boolean({ required: true }) },
    resolve: (_r, args, ctx) => asOperator(ctx, (work) => holdOperation(work, { ...args, id: String(args.id) })),
  }),
}));
