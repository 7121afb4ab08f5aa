import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { WebSocket } from 'ws';
import type { EventLoopLoad } from '../event-loop.ts';

/** While the event loop is busy, a socket's writes wait to go out together for at most this long: the
 * latency traded, under load only, for fewer system calls per delivery. */
const BUSY_FLUSH_INTERVAL_MS = 50;

/**
 * Holds a socket's writes until the next flush: events fanned out before it reach a subscriber in one
 * write (one system call, one TCP segment) rather than one each. Idle, the flush comes at the end of this
 * event-loop turn, so nothing waits; busy, at most every BUSY_FLUSH_INTERVAL_MS, so that under a burst
 * each write carries several events (the kernel's per-write cost is most of a delivery's). One per app.
 */
export class WriteCoalescer {
  readonly #corked = new Set<Socket>();
  #lastFlushAt = 0;

  constructor(private readonly load: EventLoopLoad) {}

  hold(ws: WebSocket): void {
    // ws keeps its net.Socket private; cork/uncork nest with its own per-frame corking.
    const socket = (ws as unknown as { _socket?: Socket })._socket;
    if (!socket || this.#corked.has(socket)) return;
    if (!this.#corked.size) this.#scheduleFlush();
    this.#corked.add(socket);
    socket.cork();
  }

  #scheduleFlush(): void {
    const wait = this.load.busy() ? this.#lastFlushAt + BUSY_FLUSH_INTERVAL_MS - performance.now() : 0;
    if (wait > 0) setTimeout(() => this.#flush(), wait);
    else setImmediate(() => this.#flush());
  }

  #flush(): void {
    this.#lastFlushAt = performance.now();
    for (const socket of this.#corked) socket.uncork();
    this.#corked.clear();
  }
}
