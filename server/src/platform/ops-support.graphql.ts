import { BREAK_GLASS_JUSTIFICATIONS } from '../support/support-grant.entity.ts';
import { OPS_SENSITIVE, opsBuilder } from './ops-builder.ts';
import { enumOf } from './ops-enums.ts';
import { asOperator } from './operator-work.ts';
import { type GrantReview, type SupportSessionOpened, approveBreakGlass, grantsInForce, openSupportSession, requestBreakGlass } from './support-desk.ts';

const JustificationEnum = enumOf('BreakGlassJustification', BREAK_GLASS_JUSTIFICATIONS);

const GrantRef = opsBuilder.objectRef<GrantReview>('SupportGrantReview').implement({
  description: "A company's grant of read-only support access, or a break-glass: what it allows and until when, nothing of the company's data.",
  authScopes: { operator: true },
  fields: (t) => ({
    id: t.exposeID('id'),
    tenantId: t.exposeID('tenantId'),
    tenantName: t.exposeString('tenantName'),
    kind: t.exposeString('kind'),
    scopes: t.exposeStringList('scopes'),
    reason: t.exposeString('reason'),
    caseReference: t.exposeString('caseReference'),
    justification: t.exposeString('justification', { nullable: true }),
    requestedByOperator: t.exposeID('requestedByOperator', { nullable: true }),
    approvedByOperator: t.exposeID('approvedByOperator', { nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    approvedAt: t.expose('approvedAt', { type: 'DateTime', nullable: true, description: 'Null: a break-glass waiting for the other operator.' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
  }),
});

const OpenedRef = opsBuilder.objectRef<SupportSessionOpened>('SupportSessionOpened').implement({
  authScopes: { operator: true },
  fields: (t) => ({
    token: t.exposeString('token', { description: 'Shown once: the Bearer credential of /graphql, read-only, for this company; every request is in its journal.' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
    grant: t.field({ type: GrantRef, resolve: (o) => o.grant }),
  }),
});

opsBuilder.queryField('supportGrants', (t) =>
  t.field({
    type: [GrantRef],
    description: 'Grants in force, soonest end first, and break-glasses waiting for the second operator.',
    authScopes: { operator: true },
    resolve: (_r, _a, ctx) => asOperator(ctx, ({ em, now }) => grantsInForce(em, now)),
  }),
);

opsBuilder.mutationFields((t) => ({
  openSupportSession: t.field({
    type: OpenedRef,
    description: "A read-only session in the company under its grant: the company's journal records it and every request. Needs a fresh proof (operatorStepUp).",
    authScopes: OPS_SENSITIVE,
    args: { grantId: t.arg.id({ required: true }) },
    resolve: (_r, args, ctx) => asOperator(ctx, (work) => openSupportSession(work, String(args.grantId))),
  }),
  requestBreakGlass: t.field({
    type: GrantRef,
    description: 'Emergency read-only access without a grant: the other operator approves it; at most an hour; both journals; shown to the owner. Needs a fresh proof.',
    authScopes: OPS_SENSITIVE,
    args: { tenantId: t.arg.id({ required: true }), justification: t.arg({ type: JustificationEnum, required: true }), caseReference: t.arg.string({ required: true }), reason: t.arg.string({ required: true }) },
    resolve: (_r, args, ctx) => asOperator(ctx, (work) => requestBreakGlass(work, { ...args, tenantId: String(args.tenantId) })),
  }),
  approveBreakGlass: t.field({
    type: GrantRef,
    description: "The second operator's approval of a break-glass. Needs a fresh proof (operatorStepUp).",
    authScopes: OPS_SENSITIVE,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_r, args, ctx) => asOperator(ctx, (work) => approveBreakGlass(work, String(args.id))),
  }),
}));
