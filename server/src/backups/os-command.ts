import { execFile, execFileSync } from 'node:child_process';
import { chown } from 'node:fs/promises';
import type { BackupSettings } from '../config.ts';

export interface ToolOutput {
  stdout: string;
  stderr: string;
}

/** A tool that failed: the last lines of what it printed, or its exit code; never the command line. */
export class ToolFailed extends Error {}

/**
 * pgBackRest and the PostgreSQL tools run as the data directory's owner: as BACKUP_RUN_AS through
 * `runuser` when Vigil is root (PostgreSQL refuses to run as root), otherwise as Vigil itself.
 */
export function runTool(settings: Pick<BackupSettings, 'runAs'>, command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<ToolOutput> {
  const [file, fileArgs] = settings.runAs ? ['runuser', ['-u', settings.runAs, '--', command, ...args]] : [command, args];
  return new Promise((resolve, reject) => {
    // cwd: the tool's user may not be allowed into Vigil's working directory.
    execFile(file, fileArgs, { cwd: options.cwd ?? '/', env: options.env ?? process.env, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (!error) return resolve({ stdout, stderr });
      const said = `${stderr}\n${stdout}`.trim().split('\n').slice(-6).join('\n');
      // Never error.message: it repeats the command line, connection URLs and all.
      const how = error.signal ? `killed by ${error.signal}` : `exit ${error.code}`;
      // A subcommand (pgbackrest backup) is named; an option never is.
      const verb = /^[a-z-]+$/.test(args[0] ?? '') ? ` ${args[0]}` : '';
      reject(new ToolFailed(`${command.split('/').at(-1)}${verb} failed: ${said || how}`));
    });
  });
}

/** A directory the tools write into (a scratch copy, a socket) belongs to their user. */
export async function handToToolUser(settings: Pick<BackupSettings, 'runAs'>, path: string): Promise<void> {
  if (!settings.runAs) return;
  const id = (flag: string) => Number(execFileSync('id', [flag, settings.runAs!], { encoding: 'utf8' }).trim());
  await chown(path, id('-u'), id('-g'));
}
