import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { type Socket, connect as tcpConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { RecordedEvent } from '../audit/journal.ts';
import type { Logger } from '../logger.ts';
import { frame, syslogMessage } from './format.ts';

/** Messages held while the collector is away; past it the oldest go, counted and logged. */
const QUEUE_LIMIT = 50_000;
const RETRY_MS = [1000, 2000, 5000, 10_000, 30_000] as const;

export interface SyslogSettings {
  /** tls://host:port (RFC 5425), or tcp://loopback:port for a local relay. */
  url: string;
  caFile?: string;
}

/**
 * The operator-wide stream of every company's journal to a syslog collector, RFC 5424 over TLS (RFC 5425,
 * octet-counted). Each instance streams what it commits, in commit order, over one connection it keeps and
 * re-opens (backing off) when the collector goes away, holding up to QUEUE_LIMIT messages meanwhile. Syslog has
 * no acknowledgement: what the collector had not read when a connection broke is not sent again. A customer's
 * copy that must never miss an event is a webhook (webhooks/) or an export, both read from the journal itself.
 */
export class SyslogStream {
  private readonly queue: string[] = [];
  private socket: Socket | null = null;
  private connected = false;
  private failures = 0;
  private retry: NodeJS.Timeout | null = null;
  private closed = false;
  private dropped = 0;
  private readonly host = hostname();

  constructor(
    private readonly settings: SyslogSettings,
    private readonly log: Pick<Logger, 'info' | 'warn' | 'error'>,
  ) {
    this.open();
  }

  send(events: readonly RecordedEvent[]): void {
    if (this.closed) return;
    for (const event of events) this.queue.push(frame(syslogMessage(event, this.host, process.pid)));
    if (this.queue.length > QUEUE_LIMIT) {
      const over = this.queue.length - QUEUE_LIMIT;
      this.queue.splice(0, over);
      if (this.dropped === 0) this.log.error({ over }, 'the syslog collector is away and its queue is full: the oldest messages are dropped (the journal keeps them)');
      this.dropped += over;
    }
    this.flush();
  }

  /** Waits until what is queued is written to the connection, or gives up after `ms`. */
  async drained(ms = 5000): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (this.queue.length && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    return this.queue.length === 0;
  }

  close(): void {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    this.socket?.end();
  }

  private open(): void {
    const url = new URL(this.settings.url);
    const port = Number(url.port);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const socket =
      url.protocol === 'tls:'
        ? tlsConnect({ host, port, servername: host, ...(this.settings.caFile ? { ca: readFileSync(this.settings.caFile) } : {}) }, () => this.ready())
        : tcpConnect({ host, port }, () => this.ready());
    this.socket = socket;
    socket.on('error', (error) => {
      if (this.failures === 0) this.log.warn({ err: error, collector: url.host }, 'the syslog collector cannot be reached; retrying');
    });
    socket.on('close', () => this.lost());
  }

  private ready(): void {
    this.connected = true;
    if (this.failures || this.dropped) this.log.info({ dropped: this.dropped }, 'syslog stream connected');
    this.failures = 0;
    this.dropped = 0;
    this.flush();
  }

  private lost(): void {
    this.connected = false;
    this.socket = null;
    if (this.closed) return;
    const wait = RETRY_MS[Math.min(this.failures, RETRY_MS.length - 1)];
    this.failures += 1;
    this.retry = setTimeout(() => this.open(), wait);
    this.retry.unref();
  }

  private flush(): void {
    if (!this.connected || !this.socket) return;
    while (this.queue.length) {
      const more = this.socket.write(this.queue.shift()!);
      if (!more) {
        this.socket.once('drain', () => this.flush());
        return;
      }
    }
  }
}
