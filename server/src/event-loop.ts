import { performance } from 'node:perf_hooks';

/** Above this event-loop utilisation the process is busy serving: background work should yield to it. */
const BUSY_UTILIZATION = 0.8;
const UTILIZATION_WINDOW_MS = 100;

/**
 * Whether the event loop was busy over the last window (about 100 ms), read when asked: no timer of
 * its own, so an idle process pays nothing. One per app (services.eventLoop), shared by the hasher and
 * the live journal's write coalescing.
 */
export class EventLoopLoad {
  #sampledAt = 0;
  #sample = performance.eventLoopUtilization();
  #busy = false;

  busy(): boolean {
    const now = performance.now();
    if (now - this.#sampledAt >= UTILIZATION_WINDOW_MS) {
      const current = performance.eventLoopUtilization();
      this.#busy = performance.eventLoopUtilization(current, this.#sample).utilization > BUSY_UTILIZATION;
      this.#sample = current;
      this.#sampledAt = now;
    }
    return this.#busy;
  }
}
