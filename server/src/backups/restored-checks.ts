import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuditEvent } from '../audit/audit-event.entity.ts';
import { verifiedCheckpoints } from '../audit/checkpoints.ts';
import { verifyChain } from '../audit/verify.ts';
import type { Database } from '../db/database.ts';
import { Locators } from '../db/locators.ts';
import type { ServerKeys } from '../server-keys.ts';
import { tenantRowCounts } from '../critical-ops/purge.ts';
import type { PurgedCompanies } from './drill-purges.ts';
import { type BackupManifest, tenantState } from './manifest.ts';

/**
 * What the drill requires of a restored copy, as sentences naming the company and the first bad seq or the
 * table: every journal's chain recomputes and reaches at least the checkpoints the copy carried, each head
 * equals or extends the manifest's, counts equal the manifest's where the journal did not move, and no
 * purged company is back (the receipts of purges after the copy was taken were applied as it opened).
 */
export async function restoredCopyProblems(
  restored: Database,
  manifest: BackupManifest,
  checkpoints: Record<string, string>,
  context: { keys: Pick<ServerKeys, 'auditVerifyKeys'>; scratchDir: string; purged: PurgedCompanies },
): Promise<string[]> {
  const trailDir = join(context.scratchDir, 'checkpoints');
  mkdirSync(trailDir, { recursive: true, mode: 0o700 });
  for (const [tenantId, lines] of Object.entries(checkpoints)) if (lines) writeFileSync(join(trailDir, `${tenantId}.jsonl`), `${lines}\n`);
  const present = new Set(await new Locators(restored).allTenantIds());
  const problems: string[] = [];
  for (const expected of manifest.tenants) {
    if (context.purged.has(expected.tenantId)) continue;
    problems.push(...(await journalProblems(restored, expected, verifiedCheckpoints(trailDir, context.keys.auditVerifyKeys, expected.tenantId))));
  }
  for (const [tenantId, purgedAt] of context.purged) {
    if (present.has(tenantId) && (await holdsRows(restored, tenantId))) problems.push(`company ${tenantId}, purged at ${purgedAt}, is back in the restored copy`);
  }
  return problems;
}

async function journalProblems(restored: Database, expected: BackupManifest['tenants'][number], trail: ReturnType<typeof verifiedCheckpoints>): Promise<string[]> {
  const who = `company ${expected.tenantId}`;
  if (trail.problem) return [`${who}: the checkpoint trail the copy is held to is not intact: ${trail.problem}`];
  const report = await verifyChain(restored.forTenant(expected.tenantId), trail);
  if (!report.ok) return [`${who}: the journal does not verify, first bad seq ${report.firstBadSeq ?? '-'}: ${report.problem}`];
  const state = await tenantState({ db: restored }, expected.tenantId);
  if (expected.headSeq === null) return [];
  if ((state.headSeq ?? 0) < expected.headSeq) return [`${who}: the journal ends at seq ${state.headSeq ?? 0}, the manifest says ${expected.headSeq}`];
  const atHead = await restored.forTenant(expected.tenantId).findOne(AuditEvent, { seq: expected.headSeq }, { fields: ['hash'] });
  if (atHead?.hash !== expected.headHash) return [`${who}: seq ${expected.headSeq} is not the event the manifest signed, first bad seq ${expected.headSeq}`];
  if (state.headSeq !== expected.headSeq || !expected.counts) return [];
  return Object.entries(expected.counts)
    .filter(([table, count]) => state.counts?.[table] !== count)
    .map(([table, count]) => `${who}: table ${table} has ${state.counts?.[table]} rows, the manifest says ${count}`);
}

async function holdsRows(restored: Database, tenantId: string): Promise<boolean> {
  return Object.values(await tenantRowCounts(restored.forTenant(tenantId), tenantId)).some((count) => count > 0);
}
