import { defineEntity, p } from '@mikro-orm/postgresql';
import { tenantOwned } from '../db/tenancy.ts';
import { Tenant } from '../tenants/tenant.entity.ts';
import { User } from '../users/user.entity.ts';

export const SESSION_END_REASONS = [
  'signed_out',
  'revoked',
  'expired',
  'token_reuse',
  'password_changed',
  'user_disabled',
  'email_changed',
] as const;
export type SessionEndReason = (typeof SESSION_END_REASONS)[number];

export const Session = defineEntity({
  name: 'Session',
  ...tenantOwned('session', { located: true }),
  indexes: [{ properties: ['tenant', 'user'] }],
  properties: {
    id: p.uuid().primary(),
    tenant: () => p.manyToOne(Tenant),
    user: () => p.manyToOne(User),
    /** SHA-256 of the current token secret, hex. The secret itself is never stored. */
    secretHash: p.string().length(64).hidden(),
    /** The secret before the last rotation stays valid until previousValidUntil (the grace window). */
    previousSecretHash: p.string().length(64).nullable().hidden(),
    previousValidUntil: p.datetime().nullable(),
    createdAt: p.datetime(),
    rotatedAt: p.datetime(),
    lastSeenAt: p.datetime(),
    expiresAt: p.datetime(),
    ip: p.string().length(64).nullable(),
    userAgent: p.string().length(512).nullable(),
    /** 'password' or 'password+totp'. */
    authMethod: p.string().length(20),
    /** The last stepUp: a fresh proof of the user for sensitive operations (the sign-in itself counts as one). */
    steppedUpAt: p.datetime().nullable(),
    endedAt: p.datetime().nullable(),
    endReason: p.enum(SESSION_END_REASONS).nullable(),
  },
});

export type Session = InstanceType<typeof Session.class>;

/** Secrets a session rotated away from: presenting one after the grace window is token reuse. */
export const RetiredSessionSecret = defineEntity({
  name: 'RetiredSessionSecret',
  ...tenantOwned('retired_session_secret'),
  properties: {
    secretHash: p.string().length(64).primary(),
    tenant: () => p.manyToOne(Tenant),
    session: () => p.manyToOne(Session).index().deleteRule('cascade'),
    retiredAt: p.datetime(),
  },
});

export type RetiredSessionSecret = InstanceType<typeof RetiredSessionSecret.class>;
