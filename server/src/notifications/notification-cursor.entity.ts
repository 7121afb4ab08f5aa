import { defineEntity, p } from '@mikro-orm/postgresql';
import { tenantOwned } from '../db/tenancy.ts';
import { Tenant } from '../tenants/tenant.entity.ts';

/**
 * How far the notifier has mailed a company's journal: every notifying event up to lastSeq is done (mailed,
 * or decided not to be). An instance leases the row (leaseId, leasedUntil) to mail what follows, and moves
 * lastSeq past each mail in the transaction that records it, so another instance never mails it again. A
 * failed mail leaves lastSeq before it and sets retryAt. Located: vigil_notifications_due reads every company's.
 */
export const NotificationCursor = defineEntity({
  name: 'NotificationCursor',
  ...tenantOwned('notification_cursor', { located: true }),
  properties: {
    tenant: () => p.manyToOne(Tenant).primary(),
    lastSeq: p.bigint('number').default(0),
    leaseId: p.uuid().nullable(),
    leasedUntil: p.datetime().nullable(),
    /** Failed attempts at the mail after lastSeq; reset when it goes out or is given up. */
    failures: p.integer().default(0),
    retryAt: p.datetime().nullable(),
    lastMailedAt: p.datetime().nullable(),
  },
});

export type NotificationCursor = InstanceType<typeof NotificationCursor.class>;
