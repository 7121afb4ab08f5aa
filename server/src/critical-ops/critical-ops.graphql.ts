import { VIEWER_DEPENDENT, builder, enumOf, sensitive } from '../builder.ts';
import { asViewer } from '../unit-of-work.ts';
import { CRITICAL_KINDS, CRITICAL_STATES } from './critical-operation.entity.ts';
import { acceptTransfer, cancelOperation, listOperations, requestDeletion, requestTransfer, transferOfferedToMe } from './critical-ops.ts';
import type { CriticalOperationView } from './transitions.ts';

const KindEnum = enumOf('CriticalOperationKind', CRITICAL_KINDS.map((k) => k.replace('tenant.', '')) as ['delete', 'transfer_ownership']);
const StateEnum = enumOf('CriticalOperationState', CRITICAL_STATES);

export const CriticalOperationRef = builder.objectRef<CriticalOperationView>('CriticalOperation').implement({
  description: "The company's deletion or ownership transfer, under an operator's verification: its state and timeline.",
  // Owners and administrators see them all; the employee named as the new owner sees the transfer they are to accept.
  authScopes: (op, ctx) => (ctx.viewer && op.params.newOwnerId === ctx.viewer.user.id ? { authenticated: true } : { permission: 'company.critical_operations' }),
  fields: (t) => ({
    id: t.exposeID('id'),
    kind: t.field({ type: KindEnum, resolve: (op) => op.kind.replace('tenant.', '') as 'delete' | 'transfer_ownership' }),
    state: t.field({ type: StateEnum, resolve: (op) => op.state }),
    intentHash: t.exposeString('intentHash', { description: 'SHA-256 of the exact parameters: what the operator approves, and nothing else.' }),
    newOwnerId: t.id({ nullable: true, description: 'For a transfer: the employee who becomes the owner.', resolve: (op) => (op.params.newOwnerId as string | undefined) ?? null }),
    reason: t.exposeString('reason'),
    requestedBy: t.id({ resolve: (op) => op.requestedBy }),
    requestedAt: t.expose('requestedAt', { type: 'DateTime' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', description: 'Verification and approval must come before this.' }),
    verifiedAt: t.expose('verifiedAt', { type: 'DateTime', nullable: true }),
    verificationMethod: t.string({ nullable: true, resolve: (op) => (op.verification?.method as string | undefined) ?? null }),
    approvedAt: t.expose('approvedAt', { type: 'DateTime', nullable: true }),
    acceptBy: t.expose('acceptBy', { type: 'DateTime', nullable: true, description: 'For a transfer: the new owner accepts before this.' }),
    acceptedAt: t.expose('acceptedAt', { type: 'DateTime', nullable: true }),
    executesAt: t.expose('executesAt', { type: 'DateTime', nullable: true, description: 'Not before: the end of the cooling-off, during which it can still be cancelled.' }),
    executedAt: t.expose('executedAt', { type: 'DateTime', nullable: true }),
    purgeAt: t.expose('purgeAt', { type: 'DateTime', nullable: true }),
    legalHold: t.exposeBoolean('legalHold'),
    closedAt: t.expose('closedAt', { type: 'DateTime', nullable: true }),
    closeReason: t.exposeString('closeReason', { nullable: true }),
  }),
});

builder.queryField('criticalOperations', (t) =>
  t.field({
    type: [CriticalOperationRef],
    description: "The company's deletions and ownership transfers, newest first.",
    authScopes: { permission: 'company.critical_operations' },
    resolve: (_root, _args, ctx) => asViewer(ctx, listOperations, undefined),
  }),
);

builder.queryField('ownershipTransferOffered', (t) =>
  t.field({
    type: CriticalOperationRef,
    nullable: true,
    description: 'An approved transfer of the company to you, waiting for your acceptance.',
    extensions: VIEWER_DEPENDENT,
    authScopes: { session: true },
    resolve: (_root, _args, ctx) => asViewer(ctx, transferOfferedToMe, undefined),
  }),
);

builder.mutationFields((t) => ({
  requestCompanyDeletion: t.field({
    type: CriticalOperationRef,
    description: 'The owner asks for the deletion; an operator verifies and approves it, then 72 hours of cooling-off. Needs a fresh proof (stepUp).',
    authScopes: sensitive({ permission: 'tenant.settings' }),
    args: { reason: t.arg.string({ required: true }) },
    resolve: (_root, args, ctx) => asViewer(ctx, requestDeletion, { reason: args.reason }),
  }),
  requestOwnershipTransfer: t.field({
    type: CriticalOperationRef,
    description: 'The owner hands the company to an employee, who accepts within 24 hours of the operator\'s approval. Needs a fresh proof (stepUp).',
    authScopes: sensitive({ permission: 'tenant.settings' }),
    args: { newOwnerId: t.arg.id({ required: true }), reason: t.arg.string({ required: true }) },
    resolve: (_root, args, ctx) => asViewer(ctx, requestTransfer, { newOwnerId: String(args.newOwnerId), reason: args.reason }),
  }),
  cancelCriticalOperation: t.field({
    type: CriticalOperationRef,
    description: 'Any owner or administrator, any time before it executes.',
    authScopes: { permission: 'company.critical_operations' },
    args: { id: t.arg.id({ required: true }), reason: t.arg.string() },
    resolve: (_root, args, ctx) => asViewer(ctx, cancelOperation, { id: String(args.id), reason: args.reason ?? undefined }),
  }),
  acceptOwnershipTransfer: t.field({
    type: CriticalOperationRef,
    description: 'The named new owner accepts an approved transfer, which then happens at once. Needs a fresh proof (stepUp).',
    authScopes: sensitive({ session: true }),
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => asViewer(ctx, acceptTransfer, String(args.id)),
  }),
}));
