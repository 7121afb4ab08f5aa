import { AuditEvent } from '../audit/audit-event.entity.ts';
import { PLATFORM_TENANT_ID } from '../db/tenancy.ts';
import type { BackupServices } from './backup-services.ts';
import { journalledBackup } from './journalled-backups.ts';
import { type BackupEngine, backupEngine } from './mode.ts';

/** The alert of OPERATIONS.md: a copy is late once it is older than the interval and two hours (26 h for 24 h). */
export const STALE_GRACE_HOURS = 2;
const HOUR_MS = 3_600_000;

export interface LastBackup {
  backupId: string;
  finishedAt: Date;
  ageSeconds: number;
  bytes: number | null;
}

export interface LastBackupFailure {
  backupId: string | null;
  at: Date;
  problem: string;
  /** The seq of its entry in the platform journal, whose details hold the whole text (company ids included). */
  journalSeq: number;
}

export interface LastDrill {
  backupId: string | null;
  at: Date;
  passed: boolean;
  problems: string[];
  durationMs: number | null;
  journalSeq: number;
}

/**
 * What the operators' console shows of backups: facts of the platform journal and of the configuration,
 * never a company's id or data (the drill's problems name companies: those ids are withheld here).
 */
export interface BackupStatus {
  engine: BackupEngine;
  engineReason: string;
  scheduleEnabled: boolean;
  intervalHours: number;
  drillIntervalHours: number;
  retentionDays: number;
  lastBackup: LastBackup | null;
  lastFailure: LastBackupFailure | null;
  lastDrill: LastDrill | null;
  /** No good copy, or the last one older than the interval and STALE_GRACE_HOURS. */
  stale: boolean;
  /** How much a loss now would lose at worst, in seconds; null when it cannot be told (no copy, nothing archived, the archiver unreadable). */
  rpoSeconds: number | null;
  rpoNote: string;
  /** pgBackRest only: the archiver's last failure, when it is more recent than its last success. */
  archiveFailedAt: Date | null;
}

export type BackupStatusServices = Pick<BackupServices, 'config' | 'db' | 'clock'>;

export async function readBackupStatus(services: BackupStatusServices): Promise<BackupStatus> {
  const { config, clock } = services;
  const now = clock.now();
  const { engine, reason } = await backupEngine(services);
  const [journalled, lastFailure, lastDrill] = await Promise.all([journalledBackup(services, engine), latestFailure(services), latestDrill(services)]);
  const lastBackup: LastBackup | null = journalled && {
    backupId: journalled.backupId,
    finishedAt: journalled.finishedAt,
    ageSeconds: secondsBetween(journalled.finishedAt, now),
    bytes: typeof journalled.completed.bytes === 'number' ? journalled.completed.bytes : null,
  };
  const { intervalHours, drillIntervalHours, retentionDays } = config.backup;
  const stale = !lastBackup || lastBackup.ageSeconds * 1000 > (intervalHours + STALE_GRACE_HOURS) * HOUR_MS;
  const rpo = engine === 'pgbackrest' ? await archiverRpo(services, now) : copyRpo(lastBackup);
  return {
    engine,
    engineReason: reason,
    scheduleEnabled: config.backup.mode !== 'off' && config.backgroundJobs,
    intervalHours,
    drillIntervalHours,
    retentionDays,
    lastBackup,
    lastFailure,
    lastDrill,
    stale,
    ...rpo,
  };
}

type Rpo = Pick<BackupStatus, 'rpoSeconds' | 'rpoNote' | 'archiveFailedAt'>;

/** Embedded and logical copies: what happened since the last good copy is what a loss now loses. */
function copyRpo(lastBackup: LastBackup | null): Rpo {
  if (!lastBackup) return { rpoSeconds: null, rpoNote: 'No good backup yet: a loss now would lose everything.', archiveFailedAt: null };
  return { rpoSeconds: lastBackup.ageSeconds, rpoNote: 'The age of the last good copy: everything written since it would be lost.', archiveFailedAt: null };
}

interface ArchiverRow {
  last_archived_time: Date | string | null;
  last_failed_time: Date | string | null;
  last_failed_wal: string | null;
}

/**
 * pgBackRest: WAL goes to the repository continuously, so the worst case is the age of the last archived
 * segment. pg_stat_archiver holds no tenant data; a role that may not read it gets no estimate, said so.
 */
async function archiverRpo(services: BackupStatusServices, now: Date): Promise<Rpo> {
  let row: ArchiverRow | undefined;
  try {
    [row] = await services.db.unscoped().execute<ArchiverRow[]>('select last_archived_time, last_failed_time, last_failed_wal from pg_stat_archiver');
  } catch (error) {
    return { rpoSeconds: null, rpoNote: `pg_stat_archiver cannot be read by Vigil's database role (${(error as Error).message}): no estimate.`, archiveFailedAt: null };
  }
  const archivedAt = dateOf(row?.last_archived_time);
  const failedAt = dateOf(row?.last_failed_time);
  const archiveFailedAt = failedAt && (!archivedAt || failedAt > archivedAt) ? failedAt : null;
  const warning = archiveFailedAt ? ` Warning: archiving WAL${row?.last_failed_wal ? ` segment ${row.last_failed_wal}` : ''} failed at ${archiveFailedAt.toISOString()}, after the last success.` : '';
  if (!archivedAt) return { rpoSeconds: null, rpoNote: `The server has archived no WAL segment yet (archive_mode off, or nothing written since it started).${warning}`, archiveFailedAt };
  return {
    rpoSeconds: secondsBetween(archivedAt, now),
    rpoNote: `The age of the last WAL segment archived (pg_stat_archiver): a segment is archived once full or after archive_timeout, so an idle server shows more than it would lose.${warning}`,
    archiveFailedAt,
  };
}

async function latestFailure(services: BackupStatusServices): Promise<LastBackupFailure | null> {
  const event = await latestEvent(services, ['backup.failed']);
  if (!event) return null;
  const details = event.details as { backupId?: unknown; problem?: unknown };
  return {
    backupId: typeof details.backupId === 'string' ? details.backupId : null,
    at: event.occurredAt,
    problem: withheld(typeof details.problem === 'string' ? details.problem : 'the journal names no problem', event.seq),
    journalSeq: event.seq,
  };
}

async function latestDrill(services: BackupStatusServices): Promise<LastDrill | null> {
  const event = await latestEvent(services, ['backup.drill_passed', 'backup.drill_failed']);
  if (!event) return null;
  const details = event.details as { backupId?: unknown; problems?: unknown; durationMs?: unknown };
  const problems = Array.isArray(details.problems) ? details.problems.map(String) : [];
  return {
    backupId: typeof details.backupId === 'string' ? details.backupId : null,
    at: event.occurredAt,
    passed: event.action === 'backup.drill_passed',
    problems: problems.map((problem) => withheld(problem, event.seq)),
    durationMs: typeof details.durationMs === 'number' ? details.durationMs : null,
    journalSeq: event.seq,
  };
}

function latestEvent(services: BackupStatusServices, actions: string[]) {
  return services.db
    .forTenant(PLATFORM_TENANT_ID)
    .findOne(AuditEvent, { action: { $in: actions } }, { orderBy: { seq: 'desc' }, fields: ['action', 'seq', 'occurredAt', 'details'] });
}

const UUID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi;
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^:/@\s]+:)[^@\s]+@/gi;

/**
 * A problem as the console may show it: a company's id (the drill names the company it found broken)
 * points to the journal entry instead (its details keep the whole text; the console's journal lists the
 * operators' work only, not backup.*), and a password in a connection string is masked.
 */
export function withheld(problem: string, journalSeq: number): string {
  return problem.replace(UUID, `[id withheld: platform journal seq ${journalSeq}]`).replace(URL_PASSWORD, '$1***@');
}

function dateOf(value: Date | string | null | undefined): Date | null {
  if (value === null || value === undefined) return null;
  return value instanceof Date ? value : new Date(value);
}

const secondsBetween = (from: Date, to: Date) => Math.max(0, Math.floor((to.getTime() - from.getTime()) / 1000));

/** What the metrics show of it (metrics/): numbers only, nothing a problem sentence says. */
export async function backupFacts(services: BackupStatusServices) {
  const status = await readBackupStatus(services);
  return {
    ageSeconds: status.lastBackup?.ageSeconds ?? null,
    stale: status.stale,
    rpoSeconds: status.rpoSeconds,
    drillPassed: status.lastDrill?.passed ?? null,
    drillSeconds: status.lastDrill?.durationMs == null ? null : status.lastDrill.durationMs / 1000,
  };
}
