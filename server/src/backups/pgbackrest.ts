import type { BackupSettings } from '../config.ts';
import { ConfigError } from '../config-error.ts';
import { type ToolOutput, runTool } from './os-command.ts';
import { missingSegments } from './wal-segments.ts';

export type PgbackrestSettings = Pick<BackupSettings, 'pgbackrestConfig' | 'pgbackrestStanza' | 'runAs'>;

/** What Vigil reads of `pgbackrest info --output=json`: one stanza, its repositories and backup sets. */
export interface StanzaInfo {
  status: { code: number; message: string };
  repo: Array<{ key: number; status: { code: number; message: string } }>;
  /** Per repository and PostgreSQL version: the oldest and newest archived segment. */
  archive: Array<{ database: { 'repo-key': number }; min: string | null; max: string | null }>;
  backup: Array<{
    label: string;
    type: 'full' | 'diff' | 'incr';
    error: boolean;
    database: { 'repo-key': number };
    timestamp: { start: number; stop: number };
    info: { size: number; repository: { size: number } };
  }>;
}

export function pgbackrest(settings: PgbackrestSettings, command: string, args: string[] = []): Promise<ToolOutput> {
  if (!settings.pgbackrestConfig) throw new ConfigError('pgBackRest needs PGBACKREST_CONFIG, the pgbackrest.conf of the stanza (README, "Backups and failover")');
  return runTool(settings, 'pgbackrest', [command, `--config=${settings.pgbackrestConfig}`, `--stanza=${settings.pgbackrestStanza}`, ...args]);
}

export async function stanzaInfo(settings: PgbackrestSettings): Promise<StanzaInfo> {
  const { stdout } = await pgbackrest(settings, 'info', ['--output=json']);
  const [stanza] = JSON.parse(stdout) as StanzaInfo[];
  return stanza;
}

/** The latest good backup set of one repository, or undefined. */
export function latestSet(info: StanzaInfo, repo: number): StanzaInfo['backup'][number] | undefined {
  return info.backup.filter((set) => set.database['repo-key'] === repo && !set.error).at(-1);
}

/**
 * Judged by what verify prints, not by its exit code: 2.45 exits 0 after reporting `status: error`
 * (pgbackrest#2502). Each problem names what is wrong: the damaged file, the missing WAL segment.
 */
export async function repoProblems(settings: PgbackrestSettings, repo: number): Promise<string[]> {
  const { stdout, stderr } = await pgbackrest(settings, 'verify', [`--repo=${repo}`, '--log-level-console=detail', '--output=text']);
  return verifyProblems(`${stdout}\n${stderr}`, repo);
}

export function verifyProblems(output: string, repo: number): string[] {
  const problems: string[] = [];
  for (const [, reason, file] of output.matchAll(/(invalid checksum|invalid size|missing|invalid result UNPROCESSED) '([^']+)'/g)) {
    problems.push(`repository ${repo}: ${reason} of ${file}`);
  }
  const ranges = [...output.matchAll(/wal start: ([0-9A-F]{24}), wal stop: ([0-9A-F]{24})/g)].map(([, start, stop]) => ({ start, stop }));
  for (const segment of missingSegments(ranges)) problems.push(`repository ${repo}: WAL segment ${segment} is missing from the archive`);
  if (!problems.length && /status: error/.test(output)) problems.push(`repository ${repo}: verify reports an error: ${errorLines(output)}`);
  return problems;
}

function errorLines(output: string): string {
  return output
    .split('\n')
    .filter((line) => /error|invalid|missing/i.test(line))
    .map((line) => line.trim())
    .slice(0, 5)
    .join('; ');
}
