const CHECK_EVERY_MS = 15_000;

/**
 * Notices a session that ran out while the page sat open: once `deadline()` (ms since epoch, computed
 * locally; null while nobody is signed in) has passed, `recheck` asks the server. Returns the stop.
 */
export function watchDeadline(deadline: () => number | null, recheck: () => Promise<void>): () => void {
  const timer = setInterval(() => {
    const end = deadline();
    if (end !== null && Date.now() >= end) void recheck();
  }, CHECK_EVERY_MS);
  return () => clearInterval(timer);
}
