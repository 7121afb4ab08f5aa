import { defineEntity, p } from '@mikro-orm/postgresql';

/**
 * Brute-force state shared by every instance. Not tenant data: keys are SHA-256 of
 * `account:<tenant>:<email>`, `device:<id>` or `ip:<address>`, so no row names anybody.
 */
export const SignInThrottle = defineEntity({
  name: 'SignInThrottle',
  properties: {
    key: p.string().length(64).primary(),
    /** Attempts counted since the last success or lock; an attempt counts before its password is checked. */
    failures: p.integer(),
    lastAttemptAt: p.datetime(),
    lockedUntil: p.datetime().nullable(),
  },
});

export type SignInThrottle = InstanceType<typeof SignInThrottle.class>;
