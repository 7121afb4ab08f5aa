import { VIEWER_DEPENDENT, builder, enumOf, sensitive } from '../builder.ts';
import { asViewer } from '../unit-of-work.ts';
import { SUPPORT_SCOPES, type SupportGrant } from './support-grant.entity.ts';
import { GRANT_HOURS, acknowledgeBreakGlass, grantSupportAccess, inForce, listSupportGrants, revokeSupportAccess, unseenBreakGlass } from './support-grants.ts';

const ScopeEnum = enumOf('SupportScope', SUPPORT_SCOPES, 'What support may read: the journal, people (users and sessions, metadata only), critical operations.');
const KindEnum = enumOf('SupportGrantKind', ['grant', 'break_glass'] as const);

const SupportGrantRef = builder.objectRef<SupportGrant>('SupportGrant').implement({
  description: "Platform support's read-only access to the company: granted by the owner, or a break-glass of both operators.",
  authScopes: { permission: 'company.support_access' },
  fields: (t) => ({
    id: t.exposeID('id'),
    kind: t.field({ type: KindEnum, resolve: (g) => g.kind }),
    scopes: t.field({ type: [ScopeEnum], resolve: (g) => g.scopes as Array<(typeof SUPPORT_SCOPES)[number]> }),
    reason: t.exposeString('reason'),
    caseReference: t.exposeString('caseReference'),
    justification: t.exposeString('justification', { nullable: true, description: 'A break-glass: why, from the fixed list.' }),
    grantedBy: t.id({ nullable: true, resolve: (g) => g.grantedBy }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    approvedAt: t.expose('approvedAt', { type: 'DateTime', nullable: true }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
    inForce: t.boolean({ resolve: (g, _args, ctx) => inForce(g, ctx.services.clock.now()) }),
  }),
});

const GrantInput = builder.inputType('GrantSupportAccessInput', {
  fields: (t) => ({
    reason: t.string({ required: true }),
    caseReference: t.string({ required: true }),
    scopes: t.field({ type: [ScopeEnum], required: true }),
    hours: t.int({ description: `Default ${GRANT_HOURS.default}, at most ${GRANT_HOURS.max}.` }),
  }),
});

builder.queryFields((t) => ({
  supportGrants: t.field({
    type: [SupportGrantRef],
    description: "Support's grants and break-glasses, newest first; each access is a support.access event of the journal.",
    authScopes: { permission: 'company.support_access' },
    resolve: (_root, _args, ctx) => asViewer(ctx, listSupportGrants, undefined),
  }),
  breakGlassUnseen: t.field({
    type: [SupportGrantRef],
    description: 'Break-glasses the owner has not acknowledged: shown at sign-in.',
    extensions: VIEWER_DEPENDENT,
    authScopes: { $all: { session: true, permission: 'company.support_access' } },
    resolve: (_root, _args, ctx) => asViewer(ctx, unseenBreakGlass, undefined),
  }),
}));

builder.mutationFields((t) => ({
  grantSupportAccess: t.field({
    type: SupportGrantRef,
    description: 'The owner lets support read (read-only), for a reason and a case, for a time. Needs a fresh proof (stepUp).',
    authScopes: sensitive({ permission: 'tenant.settings' }),
    args: { input: t.arg({ type: GrantInput, required: true }) },
    resolve: (_root, { input }, ctx) => asViewer(ctx, grantSupportAccess, { ...input, hours: input.hours ?? undefined }),
  }),
  revokeSupportAccess: t.field({
    type: SupportGrantRef,
    description: "Ends a grant or a break-glass at once: support's requests and sockets stop.",
    authScopes: { permission: 'company.support_access' },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => asViewer(ctx, revokeSupportAccess, String(args.id)),
  }),
  acknowledgeBreakGlass: t.boolean({
    description: 'The owner has seen the break-glass.',
    authScopes: { permission: 'tenant.settings' },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => asViewer(ctx, acknowledgeBreakGlass, String(args.id)),
  }),
}));
