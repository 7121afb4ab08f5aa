import { defineEntity, p } from '@mikro-orm/postgresql';
import { tenantOwned } from '../db/tenancy.ts';
import { Tenant } from '../tenants/tenant.entity.ts';
import { User } from '../users/user.entity.ts';

/** A filter's events as CSV, JSON lines or OCSF events, or an evidence bundle of a seq range (evidence.ts). */
export const EXPORT_FORMATS = ['csv', 'jsonl', 'ocsf', 'bundle'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** A prepared export: downloadable once, by the user who asked for it, for a minute. */
export const AuditExport = defineEntity({
  name: 'AuditExport',
  ...tenantOwned('audit_export'),
  properties: {
    id: p.uuid().primary(),
    tenant: () => p.manyToOne(Tenant),
    user: () => p.manyToOne(User).index(),
    format: p.enum(EXPORT_FORMATS),
    filter: p.json<Record<string, unknown>>(),
    createdAt: p.datetime(),
    expiresAt: p.datetime(),
    usedAt: p.datetime().nullable(),
  },
});

export type AuditExport = InstanceType<typeof AuditExport.class>;
