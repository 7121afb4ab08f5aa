import type { BackupServices, TakenCopy } from './backup-services.ts';
import { latestSet, pgbackrest, stanzaInfo } from './pgbackrest.ts';

/**
 * A full backup into every repository of the stanza (repo1 the external bucket, repo2 a local path):
 * pgBackRest copies, encrypts and expires by its own retention; Vigil runs it and records the labels.
 * WAL is archived continuously by the server's archive_command in between.
 */
export async function takePgbackrestCopy(services: BackupServices): Promise<TakenCopy> {
  const settings = services.config.backup;
  // Creates the stanza on first use and checks it matches the server ever after.
  await pgbackrest(settings, 'stanza-create');
  const repos = (await stanzaInfo(settings)).repo.map((repo) => repo.key);
  for (const repo of repos) await pgbackrest(settings, 'backup', [`--repo=${repo}`, '--type=full']);
  const info = await stanzaInfo(settings);
  const sets = repos.map((repo) => ({ repo, set: latestSet(info, repo) }));
  return {
    bytes: sets.reduce((sum, { set }) => sum + (set?.info.repository.size ?? 0), 0),
    details: { labels: Object.fromEntries(sets.map(({ repo, set }) => [repo, set?.label ?? null])), databaseBytes: sets[0]?.set?.info.size ?? 0 },
  };
}
