import { performance } from 'node:perf_hooks';

/** Above this event-loop utilisation the process is busy serving: background work should yield to it. */
const BUSY_UTILIZATION = 0.8;
const UTILIZATION_WINDOW_MS = 100;

let sampledAt = 0;
let sample = performance.eventLoopUtilization();
let busy = false;

/**
 * Whether the event loop was busy over the last window (about 100 ms), read when asked: no timer of
 * its own, so an idle process pays nothing.
 */
export function eventLoopBusy(): boolean {
  const now = performance.now();
  if (now - sampledAt >= UTILIZATION_WINDOW_MS) {
    const current = performance.eventLoopUtilization();
    busy = performance.eventLoopUtilization(current, sample).utilization > BUSY_UTILIZATION;
    sample = current;
    sampledAt = now;
  }
  return busy;
}
