import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import type { Config } from '../config.ts';
import { ToolFailed, runTool } from './os-command.ts';

/** A stream of data, and the promise that the tool producing it finished well (checked after the stream is consumed). */
export interface ToolStream {
  stream: Readable;
  done: Promise<void>;
}

type LogicalConfig = Pick<Config, 'databaseUrl' | 'databaseCaFile' | 'backup'>;

/**
 * The role the logical copy reads and restores as: BACKUP_DATABASE_URL when set, else DATABASE_URL. It must
 * see every row (Vigil's tables force row-level security, which pg_dump refuses to dump through), so
 * it is the schema's owner with BYPASSRLS or the service's administrator.
 */
export function logicalUrl(config: LogicalConfig, database?: string): string {
  const url = config.backup.databaseUrl ?? config.databaseUrl!;
  const withDatabase = database ? url.replace(/^([a-z]+:\/\/[^/?#]*)(\/[^?#]*)?/i, `$1/${encodeURIComponent(database)}`) : url;
  // libpq walks a host list itself; read-write picks the primary.
  return `${withDatabase}${withDatabase.includes('?') ? '&' : '?'}target_session_attrs=read-write`;
}

/** How a libpq tool reaches that role: the URL without its password, which goes in PGPASSWORD (a command line is visible to every local user). */
export function toolConnection(config: LogicalConfig, database?: string): { dbname: string; env: NodeJS.ProcessEnv } {
  const url = logicalUrl(config, database);
  const login = /^([a-z]+:\/\/)([^:@/?#]*):([^@/?#]*)@/i.exec(url);
  const env: NodeJS.ProcessEnv = { ...process.env, ...(config.databaseCaFile ? { PGSSLROOTCERT: config.databaseCaFile } : {}) };
  if (!login) return { dbname: url, env };
  return { dbname: url.replace(login[0], `${login[1]}${login[2]}@`), env: { ...env, PGPASSWORD: decodeURIComponent(login[3]) } };
}

/** `pg_dump -Fc` of Vigil's database: compressed, restorable table by table with pg_restore. */
export function pgDump(config: LogicalConfig): ToolStream {
  const { dbname, env } = toolConnection(config);
  const child = spawn(join(config.backup.pgBinDir, 'pg_dump'), ['--format=custom', `--dbname=${dbname}`], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
  const done = new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve() : reject(new ToolFailed(dumpFailure(stderr, code)))));
  });
  // Awaited once the stream is consumed; a dump that fails sooner must not be an unhandled rejection meanwhile.
  done.catch(() => {});
  // Read from the start: a child's unread stdout is discarded when it exits (Node's flushStdio), and the
  // caller derives its key first.
  return { stream: child.stdout.pipe(new PassThrough()), done };
}

function dumpFailure(stderr: string, code: number | null): string {
  if (/affected by row-level security/.test(stderr)) {
    return "pg_dump cannot read Vigil's tables: they force row-level security and this role does not bypass it. Set BACKUP_DATABASE_URL to a role with BYPASSRLS (or the service's administrator); README, \"Backups and failover\"";
  }
  return `pg_dump failed: ${stderr.trim().split('\n').slice(-3).join(' ') || `exit ${code}`}`;
}

/** A dump restored into a new, empty database of the same server. */
export async function pgRestore(config: LogicalConfig, dumpFile: string, database: string): Promise<void> {
  const { dbname, env } = toolConnection(config, database);
  await runTool({}, join(config.backup.pgBinDir, 'pg_restore'), ['--exit-on-error', '--single-transaction', `--dbname=${dbname}`, dumpFile], { env });
}

/** One statement on the server, through libpq (which walks a host list to the primary, as pg_dump does). */
export async function psql(config: LogicalConfig, statement: string): Promise<void> {
  const { dbname, env } = toolConnection(config);
  await runTool({}, join(config.backup.pgBinDir, 'psql'), ['--no-psqlrc', '--quiet', '-v', 'ON_ERROR_STOP=1', `--dbname=${dbname}`, '-c', statement], { env });
}
