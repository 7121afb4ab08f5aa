/**
 * npm run backup                          a copy now, by this installation's engine (README "Backups and failover")
 * npm run backup:list                     the complete copies, oldest first
 * npm run backup:drill [-- --backup <id>] restore the latest copy (or <id>) into scratch, verify it, serve it, drop it
 * npm run restore -- --to <dir|database> [--before <time>]  restore the latest copy (a server: to <time>) into a new <dir>, or database for a logical copy
 * Exit code: 0 done, 1 the drill failed, 2 bad usage or configuration.
 */
import { parseArgs } from 'node:util';
import { runDrill } from '../server/src/backups/drill.ts';
import { listBackups } from '../server/src/backups/catalogue.ts';
import { backupToRestore, reapplyPurgesTo, restoreEmbedded, restoreLogicalTo, restorePgbackrest } from '../server/src/backups/restore.ts';
import { logicalUrl } from '../server/src/backups/logical-copy.ts';
import type { ReappliedPurges } from '../server/src/critical-ops/reapply-purges.ts';
import { takeBackup } from '../server/src/backups/take-backup.ts';
import { type BackupEngine, backupEngine } from '../server/src/backups/mode.ts';
import { pgbackrest } from '../server/src/backups/pgbackrest.ts';
import type { BackupServices } from '../server/src/backups/backup-services.ts';
import { systemClock } from '../server/src/clock.ts';
import { type Config, loadConfig } from '../server/src/config.ts';
import { databaseOptionsFrom, openDatabase } from '../server/src/db/database.ts';
import { Locators } from '../server/src/db/locators.ts';
import { createEventBus } from '../server/src/event-bus.ts';
import { createLogger } from '../server/src/logger.ts';
import { loadServerKeys } from '../server/src/server-keys.ts';
import { exitWith } from './exit-with.ts';
import { ToolFailed } from '../server/src/backups/os-command.ts';
import { ConfigError } from '../server/src/config-error.ts';

const COMMANDS = ['backup', 'list', 'drill', 'restore'] as const;
type Command = (typeof COMMANDS)[number];

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { backup: { type: 'string' }, to: { type: 'string' }, before: { type: 'string' } } });
  const command = (positionals[0] ?? 'backup') as Command;
  if (!COMMANDS.includes(command)) throw new ConfigError(`Unknown command ${command}: use ${COMMANDS.join(', ')}`);
  const config = loadConfig();
  // The embedded database is locked by a running Vigil: listing and restoring its copies must not open it.
  if (!config.databaseUrl && command === 'list') return list(config);
  if (!config.databaseUrl && command === 'restore') return restore(config, 'embedded', values.to, values.before);
  return withServices(config, async (services) => {
    const { engine, reason } = await backupEngine(services);
    if (command === 'list') return engine === 'pgbackrest' ? listPgbackrest(config) : list(config);
    if (command === 'restore') return restore(config, engine, values.to, values.before);
    if (command === 'backup') {
      const taken = await takeBackup(services);
      console.log(`backup ${taken.backupId} (${engine}: ${reason}) done, ${taken.bytes} bytes stored, encrypted`);
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

async function listPgbackrest(config: Config): Promise<number> {
  console.log((await pgbackrest(config.backup, 'info')).stdout.trimEnd());
  return 0;
}

async function restore(config: Config, engine: BackupEngine, to: string | undefined, before: string | undefined): Promise<number> {
  if (!to) throw new ConfigError(`restore needs --to <${engine === 'logical' ? 'database' : 'dir'}>, a new ${engine === 'logical' ? 'database' : 'directory'} for the restored copy`);
  if (engine === 'pgbackrest') {
    await restorePgbackrest(config, to, before);
    console.log(`restored into ${to}${before ? ` as of ${before}` : ''} (archiving off); start it with pg_ctl -D ${to} start, as the server's OS user`);
    console.log('the first Vigil that opens it applies the purge receipts of companies purged since (before it serves)');
    return 0;
  }
  const entry = backupToRestore(config, before);
  if (!entry) throw new ConfigError(`No backup${before ? ` taken at or before ${before}` : ''} in ${config.backup.dir}`);
  if (engine === 'logical') {
    await restoreLogicalTo(config, entry, to);
    printPurges(await reapplyPurgesTo(config, { databaseUrl: logicalUrl(config, to), caFile: config.databaseCaFile, dataDir: config.dataDir }));
    console.log(`backup ${entry.backupId} restored into database ${to}; run Vigil on it with DATABASE_URL pointing there`);
    return 0;
  }
  await restoreEmbedded(config, entry, to);
  printPurges(await reapplyPurgesTo(config, { dataDir: to }));
  console.log(`backup ${entry.backupId} restored into ${to}; run Vigil on it with VIGIL_DATA_DIR=${to} npm run serve`);
  return 0;
}

function printPurges({ reapplied, refused }: ReappliedPurges): void {
  for (const tenantId of reapplied) console.log(`company ${tenantId} was purged after this copy was taken: its data is removed again (receipt applied)`);
  for (const sentence of refused) console.log(`WARNING: ${sentence}`);
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

// A tool's failure is a sentence for the operator, not a stack.
exitWith(main(), (error) => (error instanceof ToolFailed ? error.message : error));
