import { defineEntity, p } from '@mikro-orm/postgresql';

/**
 * The one view of the companies operators have (vigil_ops holds SELECT on it and on no tenant table):
 * id, name, state, creation and head count, from the SECURITY DEFINER vigil_ops_tenant_summary.
 */
export const TenantSummary = defineEntity({
  name: 'TenantSummary',
  tableName: 'ops_tenant_summary',
  view: true,
  // The column list as PostgreSQL prints the view back, so that the schema comparison sees no change.
  expression: 'select * from vigil_ops_tenant_summary() s(id, name, state, created_at, user_count)',
  properties: {
    id: p.uuid().primary(),
    name: p.text(),
    state: p.text(),
    createdAt: p.datetime(),
    userCount: p.integer(),
  },
});

export type TenantSummary = InstanceType<typeof TenantSummary.class>;
