import { SYSTEM_ORIGIN } from '../audit/journal.ts';
import type { RecordedEvent } from '../audit/journal.ts';
import { AuditEvent } from '../audit/audit-event.entity.ts';
import { lockUntilCommit } from '../db/locks.ts';
import type { Services } from '../services.ts';
import { Tenant } from '../tenants/tenant.entity.ts';
import { inTenantTransaction } from '../unit-of-work.ts';
import { type Detector, detectorsOf } from './detectors.ts';
import type { SecurityDetection } from './detection.ts';
import { effectiveRule } from './rules.ts';

/**
 * The detectors on the journal stream: every event an instance commits is handed here after the commit
 * (publishCommitted), whichever instance committed it, and each detector it wakes reads the journal, the
 * state every instance shares. A check and its alert are one transaction under a lock of the rule, the
 * company and the subject, so of two instances seeing a threshold crossed at once one raises it; one alert
 * per subject and window. The caller never waits for it, and a detector that fails is logged, never the
 * caller's failure.
 */
export class AlertInspector implements SecurityDetection {
  private readonly running = new Set<Promise<void>>();

  /** The services the inspector is one of, given late: they hold it. */
  constructor(private readonly services: () => Services) {}

  inspect(events: readonly RecordedEvent[]): void {
    for (const event of events) {
      for (const detector of detectorsOf(event.action)) {
        const run: Promise<void> = this.detect(detector, event)
          .catch((error: unknown) => this.services().log.error({ err: error, rule: detector.rule, tenantId: event.tenantId }, 'a security detector failed'))
          .finally(() => this.running.delete(run));
        this.running.add(run);
      }
    }
  }

  /** Resolves once every detection started so far is done (a stopping instance finishes them; tests wait on it). */
  async idle(): Promise<void> {
    while (this.running.size) await Promise.all([...this.running]);
  }

  private async detect(detector: Detector, event: RecordedEvent): Promise<void> {
    const subject = detector.subject(event);
    if (subject === null) return;
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
