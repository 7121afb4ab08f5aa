import { opsBuilder } from '../platform/ops-builder.ts';
import { enumOf } from '../platform/ops-enums.ts';
import type { BackupEngine } from './mode.ts';
import { type BackupStatus, type LastBackup, type LastBackupFailure, type LastDrill, readBackupStatus } from './status.ts';

const BACKUP_ENGINES = ['embedded', 'pgbackrest', 'logical'] as const satisfies readonly BackupEngine[];
const EngineEnum = enumOf('BackupEngine', BACKUP_ENGINES);

const LastBackupRef = opsBuilder.objectRef<LastBackup>('LastBackup').implement({
  description: 'The latest copy the platform journal says was written and listed (`backup.completed`) by the engine in use.',
  authScopes: { operator: true },
  fields: (t) => ({
    backupId: t.exposeString('backupId'),
    finishedAt: t.expose('finishedAt', { type: 'DateTime' }),
    ageSeconds: t.exposeInt('ageSeconds'),
    bytes: t.float({ nullable: true, description: 'What the copy stored, encrypted (a Float: a copy may pass 2 GiB).', resolve: (b) => b.bytes }),
  }),
});

const LastFailureRef = opsBuilder.objectRef<LastBackupFailure>('LastBackupFailure').implement({
  description: 'The latest copy that did not complete (`backup.failed`).',
  authScopes: { operator: true },
  fields: (t) => ({
    backupId: t.exposeString('backupId', { nullable: true }),
    at: t.expose('at', { type: 'DateTime' }),
    problem: t.exposeString('problem', { description: "What failed; a company's id is withheld (the platform journal's entry keeps it)." }),
    journalSeq: t.exposeInt('journalSeq', { description: 'The seq of its entry in the platform journal (in the database: the console\'s journal lists operators\' work only).' }),
  }),
});

const LastDrillRef = opsBuilder.objectRef<LastDrill>('LastDrill').implement({
  description: 'The latest restore drill (`backup.drill_passed` or `backup.drill_failed`).',
  authScopes: { operator: true },
  fields: (t) => ({
    backupId: t.exposeString('backupId', { nullable: true, description: 'Null: there was no copy to restore.' }),
    at: t.expose('at', { type: 'DateTime' }),
    passed: t.exposeBoolean('passed'),
    problems: t.exposeStringList('problems', { description: "What failed; a company's id is withheld (the platform journal's entry keeps it)." }),
    durationMs: t.exposeInt('durationMs', { nullable: true, description: 'From the start of the restore to the restored copy answering: the measured RTO.' }),
    journalSeq: t.exposeInt('journalSeq', { description: 'The seq of its entry in the platform journal (in the database: the console\'s journal lists operators\' work only).' }),
  }),
});

const BackupStatusRef = opsBuilder.objectRef<BackupStatus>('BackupStatus').implement({
  description: "How this installation's data is copied and how recent the copy is: the platform journal and the configuration, no company's id or data.",
  authScopes: { operator: true },
  fields: (t) => ({
    engine: t.field({ type: EngineEnum, resolve: (s) => s.engine }),
    engineReason: t.exposeString('engineReason', { description: 'Why this engine applies (BACKUP_MODE, the embedded database, the server\'s archive_command).' }),
    scheduleEnabled: t.exposeBoolean('scheduleEnabled', { description: 'False with BACKUP_MODE=off or BACKGROUND_JOBS=false: the commands still work.' }),
    intervalHours: t.exposeFloat('intervalHours'),
    drillIntervalHours: t.exposeFloat('drillIntervalHours'),
    retentionDays: t.exposeInt('retentionDays'),
    lastBackup: t.field({ type: LastBackupRef, nullable: true, description: 'Null: no good copy yet.', resolve: (s) => s.lastBackup }),
    lastFailure: t.field({ type: LastFailureRef, nullable: true, resolve: (s) => s.lastFailure }),
    lastDrill: t.field({ type: LastDrillRef, nullable: true, resolve: (s) => s.lastDrill }),
    stale: t.exposeBoolean('stale', { description: 'No good copy, or the last one is older than the interval plus 2 hours (the alert of OPERATIONS.md).' }),
    rpoSeconds: t.exposeInt('rpoSeconds', {
      nullable: true,
      description: 'At worst, how much a loss now would lose: the age of the last archived WAL segment (pgBackRest) or of the last good copy. Null: cannot be told (rpoNote says why).',
    }),
    rpoNote: t.exposeString('rpoNote'),
    archiveFailedAt: t.expose('archiveFailedAt', { type: 'DateTime', nullable: true, description: "pgBackRest: the server's last failed WAL archiving, when more recent than its last success." }),
  }),
});

opsBuilder.queryField('backupStatus', (t) =>
  t.field({
    type: BackupStatusRef,
    description: "The backups as the operators' console shows them: engine, schedule, the last good copy, failure and drill, the RPO estimate.",
    authScopes: { operator: true },
    // The platform journal is read by the backups' own services (as the schedule does), not in a vigil_ops
    // transaction: that role has no grant on audit_event, and the scope above already requires an operator.
    resolve: (_r, _a, ctx) => readBackupStatus(ctx.services),
  }),
);
