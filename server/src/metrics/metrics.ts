import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AuditAction } from '../audit/actions.ts';
import type { RecordedEvent } from '../audit/journal.ts';
import { PLATFORM_TENANT_ID } from '../db/tenancy.ts';

/**
 * This instance's figures for the operator, in Prometheus' format (issue 17). No label ever names a company,
 * a user or an address: it would publish the customer list to whoever scrapes, and every new company would
 * be a new series. Labels take values from closed sets only (an outcome, a schema field).
 */
export interface Metrics {
  readonly registry: Registry;
  /** One GraphQL operation, by its first root field (a field of the schema: validation ran before). */
  operation(api: string, type: string, field: string, outcome: 'ok' | 'error', seconds: number): void;
  /** Events this instance committed to a journal: what the security counters are read from. */
  journalled(events: readonly RecordedEvent[]): void;
  /** A journal's chain recomputed against the trail: by verifyAuditChain, or before a purge. */
  chainVerified(where: 'api' | 'purge', ok: boolean): void;
  /** A `vgl_` key presented: accepted, or why not (unknown or wrong secret, revoked or expired, its creator disabled). */
  apiKeyAuthenticated(outcome: 'success' | 'unknown' | 'revoked' | 'creator_disabled'): void;
  /** A run of the checkpoint job that held the lease, and how many checkpoints it signed. */
  checkpointsSigned(count: number, at: Date): void;
  /** One append to a journal, the wait for its lock included. */
  journalAppend(seconds: number): void;
  /** An event handed to this many live subscribers. */
  liveHandedOut(subscribers: number): void;
  /** One webhook attempt, by what came of it. */
  webhookDelivery(outcome: 'delivered' | 'failed' | 'unreachable' | 'gone' | 'dead'): void;
  /** Companies with an endpoint behind its journal, at the deliverer's last pass: the backlog. */
  webhookEndpointsDue(count: number): void;
}

/** Gauges read when scraped. */
export interface MetricSources {
  liveSubscribers(): number;
  hashing(): { running: number; waiting: number };
  /** The platform journal's facts of backups (backups/status.ts). */
  backups(): Promise<{ ageSeconds: number | null; stale: boolean; rpoSeconds: number | null; drillPassed: boolean | null; drillSeconds: number | null }>;
}

/** The journal's actions a counter follows, and the counter's labels for each. */
const FROM_JOURNAL = {
  'session.signed_in': ['sign_ins', { outcome: 'success' }],
  'session.sign_in_failed': ['sign_ins', { outcome: 'failure' }],
  'session.locked_out': ['lockouts', {}],
  'session.token_reuse_detected': ['token_reuse', {}],
  'access.denied': ['access_denials', {}],
  'api_key.used_after_revocation': ['api_key_revoked_used', {}],
  'journal.rollback_detected': ['rollbacks', {}],
} as const satisfies Partial<Record<AuditAction, readonly [string, Record<string, string>]>>;

export function createMetrics(sources: MetricSources): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const operations = new Counter({ name: 'vigil_graphql_operations_total', help: 'GraphQL operations executed, by API, operation type, first root field and outcome.', labelNames: ['api', 'type', 'field', 'outcome'], registers: [registry] });
  const latency = new Histogram({
    name: 'vigil_graphql_operation_duration_seconds',
    help: 'Execution time of GraphQL operations, by API, operation type and first root field.',
    labelNames: ['api', 'type', 'field'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const counters = {
    sign_ins: new Counter({ name: 'vigil_sign_ins_total', help: 'Sign-ins by outcome.', labelNames: ['outcome'], registers: [registry] }),
    lockouts: new Counter({ name: 'vigil_lockouts_total', help: 'Accounts or addresses locked out after failed sign-ins.', registers: [registry] }),
    token_reuse: new Counter({ name: 'vigil_token_reuse_detected_total', help: 'Rotated-away session tokens presented again (the session was ended).', registers: [registry] }),
    access_denials: new Counter({ name: 'vigil_access_denied_total', help: 'Fields refused to signed-in users and API keys (FORBIDDEN), as journalled: once a minute per caller and field.', registers: [registry] }),
    api_key_revoked_used: new Counter({ name: 'vigil_api_key_revoked_used_total', help: 'Revoked or expired API keys presented.', registers: [registry] }),
    rollbacks: new Counter({ name: 'vigil_journal_rollbacks_detected_total', help: 'Journals found behind their last signed checkpoint.', registers: [registry] }),
  };
  for (const outcome of ['success', 'failure']) counters.sign_ins.inc({ outcome }, 0);
  const appended = new Counter({ name: 'vigil_audit_events_total', help: 'Events this instance appended to the journals.', labelNames: ['journal'], registers: [registry] });
  new Gauge({ name: 'vigil_live_subscribers', help: 'Live journal subscriptions open on this instance.', registers: [registry], collect() { this.set(sources.liveSubscribers()); } });
  new Gauge({ name: 'vigil_password_hashes_running', help: 'argon2id hashes computing now (at most the cap).', registers: [registry], collect() { this.set(sources.hashing().running); } });
  new Gauge({ name: 'vigil_password_hashes_waiting', help: 'argon2id hashes queued behind the cap.', registers: [registry], collect() { this.set(sources.hashing().waiting); } });
  backupGauges(registry, sources);
  const verifications = new Counter({ name: 'vigil_chain_verifications_total', help: 'Journal chains recomputed against the checkpoint trail, by where and outcome (failure: tampering, or a trail that does not verify).', labelNames: ['where', 'outcome'], registers: [registry] });
  for (const where of ['api', 'purge']) verifications.inc({ where, outcome: 'failure' }, 0);
  const appendSeconds = new Histogram({ name: 'vigil_journal_append_seconds', help: "One event appended to a journal (vigil_append_audit), the wait for the journal's lock included: what many writers of one company pay.", buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1], registers: [registry] });
  const liveDeliveries = new Counter({ name: 'vigil_live_deliveries_total', help: 'Journal events handed to live subscribers (auditEvents subscriptions) on this instance, one per subscriber.', registers: [registry] });
  const webhookAttempts = new Counter({ name: 'vigil_webhook_deliveries_total', help: 'Webhook attempts, by outcome: delivered (2xx), failed (another answer), unreachable (no answer, or a refused address), gone (410: the endpoint is disabled), dead (the last retry failed: dead-lettered).', labelNames: ['outcome'], registers: [registry] });
  const webhooksDue = new Gauge({ name: 'vigil_webhook_companies_due', help: "Companies with a webhook endpoint behind its journal at the deliverer's last pass on this instance.", registers: [registry] });
  const keyAuth = new Counter({ name: 'vigil_api_key_authentications_total', help: 'API keys presented, by outcome: success, unknown (no such key or a wrong secret), revoked (or expired), creator_disabled.', labelNames: ['outcome'], registers: [registry] });
  for (const outcome of ['success', 'unknown', 'revoked', 'creator_disabled']) keyAuth.inc({ outcome }, 0);
  const signed = new Counter({ name: 'vigil_checkpoints_signed_total', help: 'Checkpoints this instance signed.', registers: [registry] });
  const lastRun = new Gauge({ name: 'vigil_checkpoint_job_last_run_timestamp_seconds', help: 'When this instance last ran the checkpoint job with its lease (alert on time() minus it, across instances).', registers: [registry] });

  return {
    registry,
    operation(api, type, field, outcome, seconds) {
      operations.inc({ api, type, field, outcome });
      latency.observe({ api, type, field }, seconds);
    },
    chainVerified(where, ok) {
      verifications.inc({ where, outcome: ok ? 'success' : 'failure' });
    },
    apiKeyAuthenticated(outcome) {
      keyAuth.inc({ outcome });
    },
    journalAppend(seconds) {
      appendSeconds.observe(seconds);
    },
    liveHandedOut(subscribers) {
      if (subscribers) liveDeliveries.inc(subscribers);
    },
    webhookDelivery(outcome) {
      webhookAttempts.inc({ outcome });
    },
    webhookEndpointsDue(count) {
      webhooksDue.set(count);
    },
    checkpointsSigned(count, at) {
      signed.inc(count);
      lastRun.set(at.getTime() / 1000);
    },
    journalled(events) {
      for (const event of events) {
        appended.inc({ journal: event.tenantId === PLATFORM_TENANT_ID ? 'platform' : 'company' });
        const followed = FROM_JOURNAL[event.action as keyof typeof FROM_JOURNAL];
        if (followed) (counters[followed[0]] as Counter<string>).inc(followed[1]);
      }
    },
  };
}



/** One read of the backups' facts per scrape, shared by their gauges; a fact not known (no copy, no drill, the database away) is NaN, never a 0 that reads as good news. */
function backupGauges(registry: Registry, sources: MetricSources): void {
  type Facts = Awaited<ReturnType<MetricSources['backups']>>;
  let read: Promise<Facts | null> | null = null;
  const facts = () => (read ??= sources.backups().catch(() => null).finally(() => setImmediate(() => (read = null))));
  const gauge = (name: string, help: string, value: (f: Facts) => number | null) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        const f = await facts();
        this.set((f && value(f)) ?? Number.NaN);
      },
    });
  gauge('vigil_backup_age_seconds', 'Age of the last good backup.', (f) => f.ageSeconds);
  gauge('vigil_backup_stale', '1 when there is no good backup, or the last is older than the interval and its grace.', (f) => (f.stale ? 1 : 0));
  gauge('vigil_backup_rpo_seconds', 'What a loss now would lose at worst.', (f) => f.rpoSeconds);
  gauge('vigil_backup_drill_passed', '1 when the last restore drill passed, 0 when it failed.', (f) => (f.drillPassed === null ? null : f.drillPassed ? 1 : 0));
  gauge('vigil_backup_drill_duration_seconds', "The last drill's duration: the measured RTO.", (f) => f.drillSeconds);
}
