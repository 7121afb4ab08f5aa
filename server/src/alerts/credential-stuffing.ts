import { SYSTEM_ORIGIN } from '../audit/journal.ts';
import { AuditEvent } from '../audit/audit-event.entity.ts';
import type { Services } from '../services.ts';
import { inTenantTransaction } from '../unit-of-work.ts';

/** Failed sign-ins from one address over this many accounts within the window is credential stuffing (OPERATIONS.md §5). */
export const CREDENTIAL_STUFFING = { accounts: 20, windowSeconds: 600 } as const;
const RULE = 'credential_stuffing';
const EVIDENCE_LIMIT = 100;

/**
 * Run after a failed sign-in commits, on whichever instance took it: the journal is the shared state (no
 * per-process counter), and the check and its alert are one transaction under a lock of the journal and
 * the address, so of two instances seeing the threshold crossed at once, one raises the alert. One alert per
 * address and window: the evidence is the failures' seqs.
 */
export async function detectCredentialStuffing(services: Services, tenantId: string, ip: string | null): Promise<void> {
  if (!ip) return;
  await inTenantTransaction(services, { tenantId, origin: SYSTEM_ORIGIN, viewer: null }, async ({ em, journal, now }) => {
    await em.execute(`select pg_advisory_xact_lock(hashtextextended(?, 0))`, [`vigil.alert:${RULE}:${tenantId}:${ip}`]);
    const since = new Date(now.getTime() - CREDENTIAL_STUFFING.windowSeconds * 1000);
    const raised = await em.count(AuditEvent, { action: 'security.alert', occurredAt: { $gt: since }, details: { rule: RULE, ip } });
    if (raised > 0) return;
    const failures = await em.find(AuditEvent, { action: 'session.sign_in_failed', ip, occurredAt: { $gt: since } }, { fields: ['seq', 'details'], orderBy: { seq: 'asc' } });
    const accounts = new Set(failures.map((event) => String((event.details as { email?: unknown }).email ?? '').toLowerCase()).filter(Boolean));
    if (accounts.size < CREDENTIAL_STUFFING.accounts) return;
    await journal.record({
      action: 'security.alert',
      outcome: 'failure',
      details: { rule: RULE, severity: 'high', ip, accounts: accounts.size, failures: failures.length, windowSeconds: CREDENTIAL_STUFFING.windowSeconds, evidenceSeqs: failures.slice(-EVIDENCE_LIMIT).map((event) => event.seq) },
    });
  });
}
