import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { trackChild } from './orphan-guard.ts';
import { freePort } from './ports.ts';

const READY_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;
const OUTPUT_LIMIT = 16_384;

export interface RedisServerOptions {
  tls?: { certFile: string; keyFile: string; caFile: string };
  /** No plain TCP port at all (redis's `--port 0`); needs tls. */
  tlsOnly?: boolean;
}

export interface RedisServer {
  /** The plain TCP port; 0 when tlsOnly (disabled, as redis itself spells it). */
  port: number;
  tlsPort?: number;
  /** rediss://localhost:<tlsPort> with tls (localhost: the name a test certificate carries), else redis://127.0.0.1:<port>. */
  url: string;
  dir: string;
  /** Sends `signal` (SIGTERM unless given; SIGKILL for a crash) and waits for the process to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again with the same ports and options (stopping it first if it still runs), and waits until ready. */
  restart(): Promise<void>;
  /** Stops the server and removes its directory. */
  stop(): Promise<void>;
}

interface Running {
  child: ChildProcess;
  exited: Promise<void>;
  output: () => string;
}

/** A private redis-server in the foreground (a child of this process), on 127.0.0.1 at free ports. */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  if (options.tlsOnly && !options.tls) throw new Error('tlsOnly needs tls');
  const dir = await mkdtemp(join(tmpdir(), 'vigil-redis-'));
  const ca = options.tls ? readFileSync(options.tls.caFile) : undefined;
  let port = 0;
  let tlsPort: number | undefined;
  let current: Running | undefined;

  const launch = async () => {
    const running = spawnRedis(serverArgs({ dir, port, tlsPort, tls: options.tls }), dir);
    current = running;
    await waitUntilReady(running, port, tlsPort, ca);
  };

  try {
    // A port found free may be taken by another test file before redis binds it: try others.
    for (let attempt = 1; ; attempt++) {
      port = options.tlsOnly ? 0 : await freePort();
      tlsPort = options.tls ? await freePort() : undefined;
      try {
        await launch();
        break;
      } catch (error) {
        if (attempt >= 3 || !/Address already in use/i.test(current?.output() ?? '')) throw error;
      }
    }
  } catch (error) {
    if (current) await terminate(current, 'SIGKILL');
    await rm(dir, { recursive: true, force: true });
    throw error;
  }

  const kill = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (current) await terminate(current, signal);
  };
  return {
    port,
    tlsPort,
    url: tlsPort !== undefined ? `rediss://localhost:${tlsPort}` : `redis://127.0.0.1:${port}`,
    dir,
    kill,
    async restart() {
      await kill();
      await launch();
    },
    async stop() {
      try {
        await kill();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

function serverArgs(input: { dir: string; port: number; tlsPort?: number; tls?: RedisServerOptions['tls'] }): string[] {
  const args = ['--port', String(input.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', input.dir, '--daemonize', 'no'];
  if (input.tls && input.tlsPort !== undefined) {
    args.push('--tls-port', String(input.tlsPort), '--tls-cert-file', input.tls.certFile, '--tls-key-file', input.tls.keyFile,
      '--tls-ca-cert-file', input.tls.caFile, '--tls-auth-clients', 'no');
  }
  return args;
}

function spawnRedis(args: string[], dir: string): Running {
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  trackChild(child, dir);
  // Only the last part of what redis says is kept: enough to explain a failed start.
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_LIMIT);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  child.once('error', (error) => {
    collect(Buffer.from(`\nspawn failed: ${error.message}\n`));
  });
  return { child, exited, output: () => output };
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Signals the process and waits for its exit; SIGKILL if `signal` did not end it in time. */
async function terminate(running: Running, signal: NodeJS.Signals): Promise<void> {
  const { child, exited } = running;
  if (hasExited(child) || child.pid === undefined) return;
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}

/** Polls until every configured port answers PING, or throws with redis's output once it exits or time runs out. */
async function waitUntilReady(running: Running, port: number, tlsPort: number | undefined, ca: Buffer | undefined): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (hasExited(running.child) || running.child.pid === undefined) {
      await Promise.race([running.exited, delay(100)]);
      throw new Error(`redis-server exited before it was ready:\n${running.output().trim()}`);
    }
    const checks: Array<Promise<boolean>> = [];
    if (port !== 0) checks.push(ping(createConnection({ host: '127.0.0.1', port })));
    // Readiness only: the CA is checked, the name is for the test to check.
    if (tlsPort !== undefined) checks.push(ping(tlsConnect({ host: '127.0.0.1', port: tlsPort, ca, checkServerIdentity: () => undefined }), 'secureConnect'));
    if ((await Promise.all(checks)).every(Boolean)) return;
    if (Date.now() > deadline) {
      await terminate(running, 'SIGKILL');
      throw new Error(`redis-server not ready within ${READY_TIMEOUT_MS} ms:\n${running.output().trim()}`);
    }
    await delay(25);
  }
}

/** true when the server answers PING with +PONG on this socket; false on any error. */
function ping(socket: Socket, readyEvent: 'connect' | 'secureConnect' = 'connect'): Promise<boolean> {
  return new Promise((resolve) => {
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once(readyEvent, () => socket.write('PING\r\n'));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('utf8');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
