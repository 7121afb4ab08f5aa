import { defineEntity, p } from '@mikro-orm/postgresql';
import { tenantOwned } from '../db/tenancy.ts';
import { Tenant } from '../tenants/tenant.entity.ts';
import { User } from '../users/user.entity.ts';

export const EXPORT_FORMATS = ['csv', 'jsonl'] as const;
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
