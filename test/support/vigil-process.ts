import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trackChild } from './orphan-guard.ts';
import { freePort } from './ports.ts';

const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;

/** A Vigil started as `npm start` runs it (`server/start.mjs` on the project's Node 24), in its own OS process. */
export interface VigilProcess {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  readonly pid: number;
  /** Everything it wrote so far, stdout and stderr interleaved as they arrived. */
  output(): string;
  /** True once the process has ended, by itself or by a signal. */
  exited(): boolean;
  /** Its exit code once it exited by itself; null while it runs or when a signal ended it. */
  readonly exitCode: number | null;
  /** SIGTERM (Vigil's graceful stop), then SIGKILL after 10 s; resolves once it has exited. Its home is removed. */
  stop(): Promise<void>;
  /** Sends a signal without waiting. */
  kill(signal?: NodeJS.Signals): void;
}

/**
 * Spawns `node_modules/.bin/node server/start.mjs` with PATH, a free PORT, HOST 127.0.0.1, LOG_LEVEL warn,
 * a fresh VIGIL_HOME and no dashboard, overridden by `env`; resolves once GET /livez answers 200.
 * Fails with what the process wrote if it exits first or is not live within 60 s.
 */
export async function startVigilProcess(env: Record<string, string> = {}): Promise<VigilProcess> {
  const home = mkdtempSync(join(tmpdir(), 'vigil-process-'));
  const port = await freePort();
  const child = spawn('node_modules/.bin/node', ['server/start.mjs'], {
    env: {
      PATH: process.env.PATH ?? '',
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      VIGIL_HOME: home,
      DASHBOARD_DIR: join(home, 'no-dashboard'),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  trackChild(child);
  let output = '';
  const append = (chunk: Buffer) => (output += chunk.toString('utf8'));
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  child.once('error', (error) => append(Buffer.from(`\nspawn failed: ${error.message}\n`)));
  const hasExited = () => child.exitCode !== null || child.signalCode !== null;
  const exitedPromise = new Promise<void>((resolve) => {
    if (hasExited()) resolve();
    else child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  const url = `http://${env.HOST ?? '127.0.0.1'}:${env.PORT ?? port}`;

  const stop = async () => {
    if (!hasExited() && child.pid !== undefined) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      try {
        await exitedPromise;
      } finally {
        clearTimeout(timer);
      }
    }
    rmSync(home, { recursive: true, force: true });
  };

  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (hasExited() || child.pid === undefined) {
      // Let the pipes drain what it said last.
      await new Promise((resolve) => setTimeout(resolve, 100));
      rmSync(home, { recursive: true, force: true });
      throw new Error(`Vigil exited before it was live (code ${child.exitCode}, signal ${child.signalCode}):\n${output.trim()}`);
    }
    const live = await fetch(`${url}/livez`, { signal: AbortSignal.timeout(2_000) }).then(
      async (response) => {
        await response.body?.cancel();
        return response.status === 200;
      },
      () => false,
    );
    if (live) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`Vigil not live within ${READY_TIMEOUT_MS} ms:\n${output.trim()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  return {
    url,
    pid: child.pid!,
    output: () => output,
    exited: hasExited,
    get exitCode() {
      return child.exitCode;
    },
    stop,
    kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (!hasExited()) child.kill(signal);
    },
  };
}
