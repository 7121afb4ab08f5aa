import type { Services } from '../services.ts';

/** What backups and the drill use: also built by the command-line tools, which serve no requests. */
export type BackupServices = Pick<Services, 'config' | 'clock' | 'db' | 'locators' | 'keys' | 'bus' | 'log'>;
