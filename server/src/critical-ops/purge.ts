import canonicalize from 'canonicalize';
import { type KeyObject, sign, verify } from 'node:crypto';
import { AuditEvent } from '../audit/audit-event.entity.ts';
import { sharedTrail } from '../audit/shared-trail.ts';
import { type AppendedRow, SYSTEM_ORIGIN, appendArgument, appendedEvent, prepareEntry } from '../audit/journal.ts';
import { verifyChain } from '../audit/verify.ts';
import { jsonOf } from '../db/rows.ts';
import { PLATFORM_TENANT_ID } from '../db/tenancy.ts';
import type { Work } from '../unit-of-work.ts';
import type { CriticalOperationView } from './transitions.ts';
import { refusalOf, takeTransition } from './transitions.ts';

/** What a purge deletes of a company: vigil_purge_tenant's list, which refuses a receipt that counts other tables. */
export const PURGED_TABLES = [
  'idempotent_request', 'support_session', 'support_grant', 'retired_session_secret', 'session', 'sign_in_challenge', 'recovery_code', 'known_device',
  'password_reset', 'invitation', 'api_key', 'audit_export', 'access_change', 'notification_cursor', 'webhook_delivery', 'webhook_endpoint', 'audit_event', 'app_user', 'role',
] as const;

/** What the platform journal keeps of a purged company: what went, and the journal's last link, signed. */
export interface PurgeReceipt {
  tenantId: string;
  operationId: string;
  counts: Record<(typeof PURGED_TABLES)[number], number>;
  /** The head of the company's journal, verified from its first event before anything was deleted; null when it had none. */
  lastSeq: number | null;
  lastHash: string | null;
  purgedAt: string;
}

const signedBytes = (receipt: PurgeReceipt) => Buffer.from(canonicalize(receipt)!);

/** Ed25519 with the key that signs the journals' checkpoints, over the receipt's RFC 8785 JSON. */
export function signReceipt(receipt: PurgeReceipt, key: KeyObject): string {
  return sign(null, signedBytes(receipt), key).toString('base64');
}

export function receiptSignatureValid(receipt: PurgeReceipt, signature: string, key: KeyObject): boolean {
  return verify(null, signedBytes(receipt), key, Buffer.from(signature, 'base64'));
}

/**
 * The purge of a deleted company, in its transaction: the journal's chain is verified first (from its first
 * event, against the signed checkpoints); a chain that does not verify is not purged but held, in both
 * journals, for a person to look at. Otherwise vigil_purge_tenant deletes every row the receipt counts,
 * under the operation's lock, and appends the signed receipt to the platform journal.
 */
export async function purgeCompany(work: Work, operation: CriticalOperationView): Promise<'purged' | 'held'> {
  const { em, services, now } = work;
  const { tenantId, id: operationId } = operation;
  const trail = await sharedTrail(services.config, services.keys.auditVerifyKeys, tenantId);
  const report = await verifyChain(em, trail);
  services.metrics.chainVerified('purge', report.ok && !trail.problem);
  if (!report.ok || trail.problem) {
    await takeTransition(em, work.journal, {
      tenantId, operationId, transition: 'refuse_purge', actor: { type: 'system', id: null }, origin: SYSTEM_ORIGIN, input: {}, now,
      details: { kind: operation.kind, intentHash: operation.intentHash, problem: trail.problem ?? report.problem, firstBadSeq: report.firstBadSeq },
    });
    return 'held';
  }
  const head = await em.findOne(AuditEvent, {}, { orderBy: { seq: 'desc' }, fields: ['seq', 'hash'] });
  const receipt: PurgeReceipt = {
    tenantId, operationId, counts: await tenantRowCounts(em, tenantId), lastSeq: head?.seq ?? null, lastHash: head?.hash ?? null, purgedAt: now.toISOString(),
  };
  const entry = prepareEntry(PLATFORM_TENANT_ID, SYSTEM_ORIGIN, now, {
    action: 'critical_operation.purged',
    target: { type: 'critical_operation', id: operationId },
    details: { kind: operation.kind, intentHash: operation.intentHash, tenantId, receipt, signature: signReceipt(receipt, services.keys.auditSigningKey), keyId: services.keys.auditSigningKeyId },
  });
  let result: { platform: AppendedRow[] };
  try {
    const [row] = await em.execute<Array<{ result: unknown }>>('select vigil_purge_tenant(?, ?, ?, ?::jsonb, ?::jsonb) as result', [
      tenantId, operationId, now, JSON.stringify(receipt), JSON.stringify({ platform: [appendArgument(entry)] }),
    ]);
    result = jsonOf(row.result);
  } catch (error) {
    throw refusalOf(error) ?? error;
  }
  work.journal.adopt(appendedEvent(entry, result.platform[0]));
  return 'purged';
}

/**
 * A company's rows, table by table, as vigil_purge_tenant deletes them (`where tenant_id`): in the company's
 * transaction row-level security keys each count as well, and on the owner's connection, which may bypass
 * it, the predicate alone does (reapply-purges.ts). Also what a backup's manifest counts.
 */
export async function tenantRowCounts(em: Pick<Work['em'], 'execute'>, tenantId: string): Promise<PurgeReceipt['counts']> {
  const columns = PURGED_TABLES.map((table) => `(select count(*) from ${table} where tenant_id = ?)::int as ${table}`).join(', ');
  const [counts] = await em.execute<Array<PurgeReceipt['counts']>>(`select ${columns}`, PURGED_TABLES.map(() => tenantId));
  return counts;
}
