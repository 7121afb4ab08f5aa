import type { EntityManager } from '@mikro-orm/postgresql';
import type { KeyObject } from 'node:crypto';
import { SYSTEM_ORIGIN, appendArgument, prepareEntry } from '../audit/journal.ts';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import { PLATFORM_TENANT_ID } from '../db/tenancy.ts';
import { type KeptEntry, type KeptPurgeReceipt, keptPurgeReceipts, receiptProblem } from './purge-receipts.ts';
import { PURGED_TABLES, tenantRowCounts } from './purge.ts';

export interface ReappliedPurges {
  /** Companies whose rows the copy still held and that are gone again. */
  reapplied: string[];
  /** Receipts not applied, as sentences naming where each was kept and why. */
  refused: string[];
}

/**
 * What the owner's connection does on every opening of the database, before anything is served: each kept
 * purge receipt whose company the database still holds (a copy restored from before the purge, however it
 * was restored: `npm run restore`, the drill, a provider's point-in-time recovery) is applied again. Only the
 * owner may: the application's role cannot disable the journal's append-only trigger, and a receipt is applied
 * only when the key that signs checkpoints signed it, so a receipt planted in the bucket deletes nothing.
 */
export function reapplyKeptPurges(
  config: Pick<Config, 'checkpointsDir' | 'offsite'>,
  verifyKeys: ReadonlyMap<string, KeyObject>,
  now: () => Date,
  reported: (result: ReappliedPurges) => void,
): (owner: EntityManager) => Promise<void> {
  return async (owner) => {
    const { kept, unreachable } = await readableReceipts(config);
    await reapplyReceipts(kept, verifyKeys, now, (result) => reported({ ...result, refused: [...unreachable, ...result.refused] }))(owner);
  };
}

/**
 * The bucket's receipts, or, when it cannot be read, this instance's: a start is not held hostage by the
 * bucket, and the refusal says the bucket's were not seen (the drill, run daily, reads the bucket again).
 */
async function readableReceipts(config: Pick<Config, 'checkpointsDir' | 'offsite'>): Promise<{ kept: KeptEntry[]; unreachable: string[] }> {
  try {
    return { kept: await keptPurgeReceipts(config), unreachable: [] };
  } catch (error) {
    const fallback = await keptPurgeReceipts({ checkpointsDir: config.checkpointsDir });
    return { kept: fallback, unreachable: [`the purge receipts in the external bucket could not be read (${(error as Error).message}); this instance's own were applied`] };
  }
}

/** The same with the receipts already read (the drill holds the copy to the very receipts it applied). */
export function reapplyReceipts(
  kept: KeptEntry[],
  verifyKeys: ReadonlyMap<string, KeyObject>,
  now: () => Date,
  reported: (result: ReappliedPurges) => void,
): (owner: EntityManager) => Promise<void> {
  return async (owner) => {
    const result: ReappliedPurges = { reapplied: [], refused: [] };
    for (const { source, entry } of kept) {
      const problem = receiptProblem(entry, verifyKeys);
      if (problem) result.refused.push(`the purge receipt ${source} was not applied: ${problem}`);
      else if (await reapplyPurge(owner, entry as KeptPurgeReceipt, now())) result.reapplied.push((entry as KeptPurgeReceipt).receipt.tenantId);
    }
    reported(result);
  };
}

/** How an opening reports it: a reapplied purge is what a restore should do; a refused receipt is someone's doing. */
export function reportReapplied(log: Pick<Logger, 'info' | 'error'>): (result: ReappliedPurges) => void {
  return ({ reapplied, refused }) => {
    if (reapplied.length) log.info({ tenantIds: reapplied }, 'purged companies were back in this database and are removed again');
    for (const sentence of refused) log.error(sentence);
  };
}

/**
 * One company, in one transaction under its tenant row's lock (two instances opening at once apply it once):
 * its rows deleted as vigil_purge_tenant deletes them, the tenant left as the same tombstone, its deletion
 * marked purged, and the platform journal told what the copy still held.
 */
async function reapplyPurge(owner: EntityManager, { receipt }: KeptPurgeReceipt, now: Date): Promise<boolean> {
  return owner.transactional(async (em) => {
    await em.execute(`select set_config('app.tenant_id', ?, true)`, [receipt.tenantId]);
    const [tenant] = await em.execute<Array<{ id: string }>>('select id from tenant where id = ? for update', [receipt.tenantId]);
    if (!tenant) return false;
    const held = await tenantRowCounts(em, receipt.tenantId);
    if (!Object.values(held).some((count) => count > 0)) return false;
    await em.execute('alter table audit_event disable trigger audit_event_append_only');
    for (const table of PURGED_TABLES) await em.execute(`delete from ${table} where tenant_id = ?`, [receipt.tenantId]);
    await em.execute('alter table audit_event enable trigger audit_event_append_only');
    await em.execute(`update tenant set name = 'Purged company', slug = 'purged-' || id::text where id = ?`, [receipt.tenantId]);
    await em.execute(`update critical_operation set state = 'purged', closed_at = ? where tenant_id = ? and id = ?`, [receipt.purgedAt, receipt.tenantId, receipt.operationId]);
    const entry = prepareEntry(PLATFORM_TENANT_ID, SYSTEM_ORIGIN, now, {
      action: 'critical_operation.purge_reapplied',
      target: { type: 'critical_operation', id: receipt.operationId },
      details: { tenantId: receipt.tenantId, purgedAt: receipt.purgedAt, receiptLastSeq: receipt.lastSeq, held },
    });
    await em.execute(`select set_config('app.tenant_id', ?, true)`, [PLATFORM_TENANT_ID]);
    await em.execute('select * from vigil_append_audit(?, ?::jsonb)', [PLATFORM_TENANT_ID, JSON.stringify([appendArgument(entry)])]);
    return true;
  });
}
