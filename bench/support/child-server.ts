import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Node 24 from the `node` package: the system node is too old for the server. */
const NODE = `${REPO_ROOT}node_modules/.bin/node`;

const STARTUP_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 10_000;
const OUTPUT_TAIL_CHARS = 4000;

/** A server running in a child process, so load generation never shares its event loop. */
export interface ChildServer {
  /** Base URL, without a trailing slash. */
  url: string;
  /** Process id, to profile or account for the server's CPU time. */
  pid: number;
  stop(): Promise<void>;
}

/** A port free right now; the child binds it a moment later (a race we accept on a bench machine). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/**
 * Runs `<script>` (relative to the repository; TypeScript through tsx, `.mjs` as it is) with `env`, then waits until
 * GET <url>/healthz answers 200. The child's output explains a failed start, and is passed on to our
 * stderr when `forwardOutput` is set (to see the errors behind failed responses).
 */
export async function startChildServer(name: string, script: string, port: number, env: NodeJS.ProcessEnv, forwardOutput = false): Promise<ChildServer> {
  const nodeArgs = process.env.BENCH_SERVER_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const loader = script.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const child = spawn(NODE, [...nodeArgs, ...loader, script], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-OUTPUT_TAIL_CHARS);
    if (forwardOutput) process.stderr.write(chunk);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHealth(child, url);
  } catch (error) {
    await stopChild(child);
    throw new Error(`${name} did not start: ${(error as Error).message}\n${output}`);
  }
  return { url, pid: child.pid ?? 0, stop: () => stopChild(child) };
}

async function waitForHealth(child: ChildProcess, url: string): Promise<void> {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`exited (${child.exitCode ?? child.signalCode})`);
    try {
      const response = await fetch(`${url}/healthz`);
      if (response.status === 200) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no 200 from /healthz within ${STARTUP_TIMEOUT_MS / 1000} s`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}
