import { type ChildProcess, spawn } from 'node:child_process';

export interface OrphanGuard {
  /** The service was cleaned up normally: the guard goes away without running its script. */
  disarm(): void;
}

/**
 * Runs a shell script once this process is gone, however it ends. Vitest tears its fork workers
 * down with SIGTERM (then SIGKILL), which skips process.on('exit'), so services a test left running
 * would outlive the run. The guard is a detached `sh` blocked reading a pipe from us; the kernel
 * closes that pipe when we die, even by SIGKILL, and the script then cleans up.
 * `script` sees `args` as $1, $2, ...
 */
export function guardAgainstOrphans(script: string, args: string[]): OrphanGuard {
  const guard = spawn('sh', ['-c', `while read -r _; do :; done\n${script}`, 'vigil-orphan-guard', ...args], {
    // Own process group: a Ctrl-C meant for the test run must not kill the guard before it cleans up.
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  // Neither the guard nor its pipe may keep the test process alive.
  guard.unref();
  (guard.stdin as { unref?: () => void } | null)?.unref?.();
  guard.on('error', () => {});
  guard.stdin?.on('error', () => {});
  let armed = true;
  return {
    disarm() {
      if (!armed) return;
      armed = false;
      // `read` is a builtin, so the guard has no children to leave behind.
      guard.kill('SIGKILL');
    },
  };
}

// Every child a test started and that has not exited yet: killed when the test process exits normally...
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

/** A child process that must not outlive the test process, however that ends; `dir` goes with it. */
export function trackChild(child: ChildProcess, dir?: string): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of liveChildren) c.kill('SIGKILL');
    });
  }
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
  // ...and by a guard when it is killed by a signal (how vitest ends its workers), which skips 'exit'.
  if (child.pid !== undefined) {
    const guard = guardAgainstOrphans('kill -KILL "$1" 2>/dev/null; [ -n "$2" ] && rm -rf "$2"', [String(child.pid), dir ?? '']);
    child.once('exit', () => guard.disarm());
  }
}
