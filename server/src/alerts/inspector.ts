import { SYSTEM_ORIGIN } from '../audit/journal.ts';
import type { RecordedEvent } from '../audit/journal.ts';
import { AuditEvent } from '../audit/audit-event.entity.ts';
import { fromEntity } from '../audit/feed.ts';
import { PLATFORM_TENANT_ID } from '../db/tenancy.ts';
import { claimLease } from '../jobs/lease.ts';
import { lockUntilCommit } from '../db/locks.ts';
import type { Services } from '../services.ts';
import { Tenant } from '../tenants/tenant.entity.ts';
import { inTenantTransaction } from '../unit-of-work.ts';
import { DETECTED_ACTIONS, type Detector, detectorsOf } from './detectors.ts';
import type { SecurityDetection } from './detection.ts';
import { effectiveRule } from './rules.ts';

/** Checks running together on one instance (each a transaction). */
const DETECTIONS_AT_ONCE = 4;

/**
 * The detectors on the journal stream: every event an instance commits is handed here after the commit
 * (publishCommitted), whichever instance committed it, and each detector it wakes reads the journal, the
 * state every instance shares. A check and its alert are one transaction under a lock of the rule, the
 * company and the subject, so of two instances seeing a threshold crossed at once one raises it; one alert
 * per subject and window. The caller never waits for it, and a detector that fails is logged, never the
 * caller's failure.
 */
export class AlertInspector implements SecurityDetection {
  /**
   * What waits to be checked, one entry per company, rule and subject: a later event of the same subject takes
   * the place of an earlier one (the check reads the rule's whole window, and raises once per window), so a
   * flood of failed sign-ins from one address costs one check at a time, not one transaction per event.
   */
  private readonly pending = new Map<string, [Detector, RecordedEvent, string]>();
  private readonly running = new Set<Promise<void>>();

  /** The services the inspector is one of, given late: they hold it. */
  constructor(private readonly services: () => Services) {}

  inspect(events: readonly RecordedEvent[]): void {
    for (const event of events) {
      for (const detector of detectorsOf(event.action)) {
        const subject = detector.subject(event);
        if (subject !== null) this.pending.set(`${event.tenantId}|${detector.rule}|${subject}`, [detector, event, subject]);
      }
    }
    this.pump();
  }

  /** Resolves once every detection handed in so far is done (a stopping instance finishes them; tests wait on it). */
  async idle(): Promise<void> {
    while (this.running.size || this.pending.size) await Promise.all([...this.running]);
  }

  /** At most DETECTIONS_AT_ONCE checks run together: they take the pool's connections the requests need too. */
  private pump(): void {
    while (this.running.size < DETECTIONS_AT_ONCE && this.pending.size) {
      const [key, [detector, event, subject]] = this.pending.entries().next().value!;
      this.pending.delete(key);
      const run: Promise<void> = this.detect(detector, event, subject)
        .catch((error: unknown) => this.services().log.error({ err: error, rule: detector.rule, tenantId: event.tenantId }, 'a security detector failed'))
        .finally(() => {
          this.running.delete(run);
          this.pump();
        });
      this.running.add(run);
    }
  }

  private async detect(detector: Detector, event: RecordedEvent, subject: string): Promise<void> {
    await inTenantTransaction(this.services(), { tenantId: event.tenantId, origin: SYSTEM_ORIGIN, viewer: null }, async ({ em, journal, now }) => {
      const tenant = await em.findOne(Tenant, event.tenantId, { fields: ['alertRules'] });
      const rule = effectiveRule(detector.rule, tenant?.alertRules[detector.rule]);
      if (!rule.enabled) return;
      await lockUntilCommit(em, `vigil.alert:${rule.rule}:${event.tenantId}:${subject}`);
      const since = new Date(now.getTime() - rule.windowSeconds * 1000);
      if (await em.count(AuditEvent, { action: 'security.alert', occurredAt: { $gt: since }, details: { rule: rule.rule, subject } })) return;
      const finding = await detector.find(em, event, rule, since);
      if (!finding) return;
      await journal.record({
        action: 'security.alert',
        outcome: 'failure',
        details: { rule: rule.rule, severity: rule.severity, subject, ...finding.details, threshold: rule.threshold, windowSeconds: rule.windowSeconds, evidenceSeqs: finding.evidenceSeqs },
      });
    });
  }
}

export const ALERT_SWEEP_JOB = 'alert_sweep';

/**
 * What a crash between a commit and its detection would lose, read again: one instance per lease inspects
 * every company's detected events of the last `lookbackSeconds` (the job runs more often than that), one check
 * per subject. A rule raises once per subject and window, so an event inspected twice raises nothing twice.
 */
export async function sweepRecentEvents(services: Services, lookbackSeconds: number, leaseSeconds: number): Promise<number> {
  const now = services.clock.now();
  if (!(await claimLease(services.db.unscoped(), ALERT_SWEEP_JOB, now, leaseSeconds))) return 0;
  const since = new Date(now.getTime() - lookbackSeconds * 1000);
  let inspected = 0;
  for (const tenantId of [PLATFORM_TENANT_ID, ...(await services.locators.allTenantIds())]) {
    const events = await services.db.forTenant(tenantId).find(AuditEvent, { action: { $in: [...DETECTED_ACTIONS] }, occurredAt: { $gt: since } }, { orderBy: { seq: 'asc' } });
    services.alerts.inspect(events.map(fromEntity));
    inspected += events.length;
  }
  await services.alerts.idle();
  return inspected;
}
