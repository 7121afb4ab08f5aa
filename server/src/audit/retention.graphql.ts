import { builder } from '../builder.ts';
import { type Context, tenantEmOf } from '../context.ts';
import { Tenant } from '../tenants/tenant.entity.ts';
import { TenantRef } from '../tenants/tenant.graphql.ts';
import { asViewer } from '../unit-of-work.ts';
import { updateJournalRetention } from './retention.ts';

/** The company's row as it is now (the viewer's carries only what authentication needs); once per request. */
const companyOf = (tenant: { id: string }, ctx: Context) => tenantEmOf(ctx).findOneOrFail(Tenant, tenant.id);

builder.objectField(TenantRef, 'journalRetentionYears', (t) =>
  t.int({ nullable: true, description: 'How long the journal is kept; null: forever.', resolve: async (tenant, _args, ctx) => (await companyOf(tenant, ctx)).journalRetentionYears ?? null }),
);
builder.objectField(TenantRef, 'journalStartsAfterSeq', (t) =>
  t.field({
    type: 'SafeInt',
    description: 'The signed checkpoint the journal starts from once the retention removed older events; 0: from its first event.',
    resolve: async (tenant, _args, ctx) => (await companyOf(tenant, ctx)).journalAnchorSeq,
  }),
);

builder.mutationField('updateJournalRetention', (t) =>
  t.field({
    type: TenantRef,
    description: 'Keep the journal 1 to 10 years (null: forever). Older events are removed up to a signed checkpoint, which stays verifiable as the anchor; the removal is journalled.',
    authScopes: { permission: 'tenant.settings' },
    args: { years: t.arg.int() },
    resolve: (_root, { years }, ctx) => asViewer(ctx, updateJournalRetention, { years: years ?? null }),
  }),
);
