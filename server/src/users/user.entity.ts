import { defineEntity, p } from '@mikro-orm/postgresql';
import { Role } from '../access/role.entity.ts';
import { tenantOwned } from '../db/tenancy.ts';
import { Tenant } from '../tenants/tenant.entity.ts';

export const User = defineEntity({
  name: 'User',
  tableName: 'app_user',
  ...tenantOwned('app_user', { located: true }),
  uniques: [{ properties: ['tenant', 'email'] }],
  properties: {
    id: p.uuid().primary(),
    tenant: () => p.manyToOne(Tenant),
    email: p.string().length(254),
    displayName: p.string().length(100),
    passwordHash: p.string().length(200).hidden(),
    role: () => p.manyToOne(Role).index(),
    disabledAt: p.datetime().nullable(),
    createdAt: p.datetime(),
    passwordChangedAt: p.datetime(),
    /** TOTP secret, AES-256-GCM encrypted with the server key; cleared when TOTP is turned off. */
    totpSecretEnc: p.string().length(400).nullable().hidden(),
    totpEnabledAt: p.datetime().nullable(),
    /** Highest RFC 6238 time step accepted so far: a code is never accepted twice. */
    totpLastStep: p.bigint('number').nullable(),
    /** After a lockdown: the next sign-in must set a new password first (PASSWORD_CHANGE_REQUIRED). */
    passwordChangeRequired: p.boolean().default(false),
  },
});

export type User = InstanceType<typeof User.class>;
