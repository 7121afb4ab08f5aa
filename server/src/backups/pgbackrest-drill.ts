import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { openDatabase } from '../db/database.ts';
import { postgresHostUrls } from '../db/connection-url.ts';
import { probeRestoredApi } from './api-probe.ts';
import type { BackupServices } from './backup-services.ts';
import { journalledBackup } from './journalled-backups.ts';
import { manifestSignatureValid } from './manifest.ts';
import { handToToolUser } from './os-command.ts';
import { pgbackrest, repoProblems, stanzaInfo } from './pgbackrest.ts';
import { firstUnrestored, segmentBefore } from './wal-segments.ts';
import { restoredCopyProblems } from './restored-checks.ts';
import type { DrillPurges } from './drill-purges.ts';
import { type ScratchCluster, startScratchCluster } from './scratch-cluster.ts';
import { checkpointTrail } from './trail.ts';

/** The repository the drill restores from: the external one, so that decryption and the external path are exercised. */
const DRILL_REPO = 1;

/**
 * The latest pgBackRest backup Vigil took, restored from repository 1 with all the WAL archived since
 * (the point in time is the last commit the archive holds), started on a private socket, re-verified
 * against the live checkpoint trail up to that time, and served by a Vigil of its own.
 */
export async function pgbackrestDrillProblems(services: BackupServices, scratch: string, purges: DrillPurges, backupId?: string): Promise<{ backupId: string | null; problems: string[] }> {
  const settings = services.config.backup;
  const taken = await journalledBackup(services, 'pgbackrest', backupId);
  if (!taken) return { backupId: backupId ?? null, problems: [backupId ? `no pgBackRest backup ${backupId} in the journal` : 'no pgBackRest backup taken by Vigil yet'] };
  const found = (problems: string[]) => ({ backupId: taken.backupId, problems });
  if (!manifestSignatureValid(taken.signed, services.keys.auditVerifyKeys)) return found([`the manifest of backup ${taken.backupId} is not signed by a published key`]);
  const label = (taken.completed.labels as Record<string, string | null> | undefined)?.[DRILL_REPO];
  if (!label) return found([`backup ${taken.backupId} wrote no set to repository ${DRILL_REPO}`]);
  const damaged = await repoProblems(settings, DRILL_REPO);
  if (damaged.length) return found(damaged);
  // Read before the restore: what the archive held then, the restore must reach.
  const archiveMax = (await stanzaInfo(settings)).archive.filter((a) => a.database['repo-key'] === DRILL_REPO).at(-1)?.max ?? null;

  const dataDir = join(scratch, 'data');
  await handToToolUser(settings, scratch);
  await mkdir(dataDir, { mode: 0o700 });
  await handToToolUser(settings, dataDir);
  await pgbackrest(settings, 'restore', [`--repo=${DRILL_REPO}`, `--set=${label}`, `--pg1-path=${dataDir}`, '--archive-mode=off']);
  const live = new URL(postgresHostUrls(services.config.databaseUrl!)[0]);
  const cluster = await startScratchCluster(settings, { dataDir, scratch, owner: decodeURIComponent(live.username), database: decodeURIComponent(live.pathname.slice(1)) || 'postgres' });
  try {
    const stoppedShort = archiveMax ? firstUnrestored(segmentBefore(archiveMax.slice(0, 8), await cluster.replayedThrough()), archiveMax) : null;
    if (stoppedShort) return found([`repository ${DRILL_REPO}: WAL segment ${stoppedShort} is missing from the archive (the restore stopped before it; the archive reaches ${archiveMax})`]);
    return found(await restoredProblems(services, cluster, taken.signed.manifest, scratch, purges));
  } finally {
    await cluster.stop();
  }
}

async function restoredProblems(services: BackupServices, cluster: ScratchCluster, manifest: Parameters<typeof restoredCopyProblems>[1], scratch: string, purges: DrillPurges): Promise<string[]> {
  const until = (await cluster.replayedUntil()) ?? new Date(manifest.takenAt);
  const checkpoints = await checkpointTrail(services.config, manifest.tenants.map(({ tenantId }) => tenantId), until);
  const restored = await openDatabase({ databaseUrl: cluster.url, dataDir: scratch, afterMigrations: purges.afterMigrations });
  let problems: string[];
  try {
    problems = await restoredCopyProblems(restored, manifest, checkpoints, { keys: services.keys, scratchDir: scratch, purged: purges.purged });
  } finally {
    await restored.close();
  }
  if (problems.length) return problems;
  const apiProblem = await probeRestoredApi(services.config, scratch, { DATABASE_URL: cluster.url, APP_DATABASE_URL: undefined, DATABASE_CA_FILE: undefined, BACKUP_MODE: 'off', PGBACKREST_CONFIG: undefined });
  return apiProblem ? [apiProblem] : [];
}
