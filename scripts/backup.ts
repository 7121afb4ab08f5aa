/**
 * npm run backup                          a copy now (embedded database; see README "Backups and failover")
 * npm run backup:list                     the complete copies, oldest first
 * npm run backup:drill [-- --backup <id>] restore the latest copy (or <id>) into scratch, verify it, serve it, drop it
 * npm run restore -- --to <dir> [--before <time>]  restore the latest copy (taken at or before <time>) into <dir>
 * Exit code: 0 done, 1 the drill failed, 2 bad usage or configuration.
 */
import { parseArgs } from 'node:util';
import { runDrill } from '../server/src/backups/drill.ts';
import { listBackups } from '../server/src/backups/catalogue.ts';
import { backupToRestore, restoreEmbedded } from '../server/src/backups/restore.ts';
import { takeEmbeddedBackup } from '../server/src/backups/take-backup.ts';
import type { BackupServices } from '../server/src/backups/backup-services.ts';
import { systemClock } from '../server/src/clock.ts';
import { type Config, loadConfig } from '../server/src/config.ts';
import { databaseOptionsFrom, openDatabase } from '../server/src/db/database.ts';
import { Locators } from '../server/src/db/locators.ts';
import { createEventBus } from '../server/src/event-bus.ts';
import { createLogger } from '../server/src/logger.ts';
import { loadServerKeys } from '../server/src/server-keys.ts';
import { exitWith } from './exit-with.ts';
import { ConfigError } from '../server/src/config-error.ts';

const COMMANDS = ['backup', 'list', 'drill', 'restore'] as const;
type Command = (typeof COMMANDS)[number];

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { backup: { type: 'string' }, to: { type: 'string' }, before: { type: 'string' } } });
  const command = (positionals[0] ?? 'backup') as Command;
  if (!COMMANDS.includes(command)) throw new ConfigError(`Unknown command ${command}: use ${COMMANDS.join(', ')}`);
  const config = loadConfig();
  if (config.databaseUrl) throw new ConfigError('These commands copy the embedded database; a PostgreSQL server is backed up by pgBackRest (README, "Backups and failover").');
  if (command === 'list') return list(config);
  if (command === 'restore') return restore(config, values.to, values.before);
  return withServices(config, async (services) => {
    if (command === 'backup') {
      const entry = await takeEmbeddedBackup(services);
      console.log(`backup ${entry.backupId} written to ${config.backup.dir} (${Object.values(entry.files).reduce((sum, f) => sum + f.bytes, 0)} bytes, encrypted)`);
      return 0;
    }
    const result = await runDrill(services, values.backup);
    if (result.passed) console.log(`drill passed: backup ${result.backupId} restored, verified and served in ${(result.durationMs / 1000).toFixed(1)} s`);
    else console.log(`DRILL FAILED (backup ${result.backupId ?? '-'}, ${(result.durationMs / 1000).toFixed(1)} s):\n${result.problems.map((p) => `  - ${p}`).join('\n')}`);
    return result.passed ? 0 : 1;
  });
}

function list(config: Config): number {
  const backups = listBackups(config.backup.dir);
  if (!backups.length) console.log(`No backup in ${config.backup.dir} yet.`);
  for (const b of backups) console.log(`${b.backupId}  ${b.mode}  ${b.startedAt}  ${Object.values(b.files).reduce((sum, f) => sum + f.bytes, 0)} bytes`);
  return 0;
}

async function restore(config: Config, to: string | undefined, before: string | undefined): Promise<number> {
  if (!to) throw new ConfigError('restore needs --to <dir>, a new directory for the restored database');
  const entry = backupToRestore(config, before);
  if (!entry) throw new ConfigError(`No backup${before ? ` taken at or before ${before}` : ''} in ${config.backup.dir}`);
  await restoreEmbedded(config, entry, to);
  console.log(`backup ${entry.backupId} restored into ${to}; run Vigil on it with VIGIL_DATA_DIR=${to} npm run serve`);
  return 0;
}

async function withServices(config: Config, work: (services: BackupServices) => Promise<number>): Promise<number> {
  const log = createLogger('warn');
  const db = await openDatabase(databaseOptionsFrom(config));
  const bus = createEventBus({ log, redisUrl: config.redisUrl, redisCaFile: config.redisCaFile, channelPrefix: config.redisChannelPrefix });
  try {
    return await work({ config, clock: systemClock, db, locators: new Locators(db), keys: loadServerKeys(config), bus, log });
  } finally {
    await bus.close();
    await db.close();
  }
}

exitWith(main());
