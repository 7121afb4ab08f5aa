import type { Services } from '../services.ts';

/** What backups and the drill use: also built by the command-line tools, which serve no requests. */
export type BackupServices = Pick<Services, 'config' | 'clock' | 'db' | 'locators' | 'keys' | 'bus' | 'log'>;

/** What a copy left, whichever engine wrote it: the journal's `backup.completed` says the same. */
export interface TakenCopy {
  bytes: number;
  /** What the engine adds (pgBackRest's backup labels per repository, the copies pruned…). */
  details: Record<string, unknown>;
}
