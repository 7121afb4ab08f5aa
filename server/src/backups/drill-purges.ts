import type { EntityManager } from '@mikro-orm/postgresql';
import { type KeptPurgeReceipt, keepJournalledPurgeReceipts, keptPurgeReceipts, receiptProblem } from '../critical-ops/purge-receipts.ts';
import { type ReappliedPurges, reapplyReceipts } from '../critical-ops/reapply-purges.ts';
import type { BackupServices } from './backup-services.ts';

/** Companies purged (their kept receipts) and when. */
export type PurgedCompanies = ReadonlyMap<string, string>;

/** What the drill does about purges: the receipts it applies to the restored copy, and what applying them did. */
export interface DrillPurges {
  purged: PurgedCompanies;
  /** Given to the restored copy's opening (DatabaseOptions.afterMigrations), as every opening of Vigil's does. */
  afterMigrations: (owner: EntityManager) => Promise<void>;
  outcome(): ReappliedPurges;
}

/**
 * The receipts a restore would apply, read where a restore after losing the servers reads them (the bucket,
 * or this instance's trail), once the live platform journal's are all kept there.
 */
export async function drillPurges(services: BackupServices): Promise<DrillPurges> {
  await keepJournalledPurgeReceipts(services);
  const kept = await keptPurgeReceipts(services.config);
  const valid = kept.filter(({ entry }) => receiptProblem(entry, services.keys.auditVerifyKeys) === null).map(({ entry }) => (entry as KeptPurgeReceipt).receipt);
  let outcome: ReappliedPurges = { reapplied: [], refused: [] };
  return {
    purged: new Map(valid.map((receipt) => [receipt.tenantId, receipt.purgedAt])),
    afterMigrations: reapplyReceipts(kept, services.keys.auditVerifyKeys, () => services.clock.now(), (result) => (outcome = result)),
    outcome: () => outcome,
  };
}
