import WebSocket from 'ws';
import { FROM_TLS_PROXY } from './graphql.ts';

/** The document both servers serve: the journal's live feed, with the fields a dashboard shows. */
export const FEED_SUBSCRIPTION = `subscription($filter: AuditEventFilter) { auditEvents(filter: $filter) {
  seq occurredAt action outcome actorType actorId targetType targetId ip userAgent details } }`;

/**
 * Many graphql-ws subscribers, each on its own WebSocket, speaking the protocol directly (a full client
 * per socket would make the load generator the bottleneck). Every delivery is counted per event seq,
 * with its latency from the event's occurredAt, which both servers set when they publish it.
 */
export class Subscribers {
  readonly #sockets: WebSocket[] = [];
  readonly #deliveries = new Map<number, number>();
  #onComplete: (() => void) | null = null;
  latencies: number[] = [];
  delivered = 0;
  /** Events every subscriber has received. */
  completed = 0;

  constructor(readonly count: number) {}

  async connect(wsUrl: string, connectionParams: Record<string, unknown> | undefined, variables: Record<string, unknown>): Promise<void> {
    const batch = 50;
    for (let start = 0; start < this.count; start += batch) {
      await Promise.all(Array.from({ length: Math.min(batch, this.count - start) }, () => this.#open(wsUrl, connectionParams, variables)));
    }
  }

  #open(wsUrl: string, connectionParams: Record<string, unknown> | undefined, variables: Record<string, unknown>): Promise<void> {
    // No UTF-8 validation and no compression: the load generator must cost less than what it measures.
    const socket = new WebSocket(wsUrl, 'graphql-transport-ws', { skipUTF8Validation: true, perMessageDeflate: false, headers: FROM_TLS_PROXY });
    this.#sockets.push(socket);
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.once('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: connectionParams })));
      socket.on('message', (raw: Buffer) => {
        if (raw.includes(ACK)) {
          socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: FEED_SUBSCRIPTION, variables } }));
          // Subscribed once the server had the message; the first deliveries prove it (see waitUntilLive).
          resolve();
          return;
        }
        this.#onNext(raw);
      });
      socket.once('close', (code) => reject(new Error(`socket closed with ${code}`)));
    });
  }

  #onNext(raw: Buffer): void {
    const seqAt = raw.indexOf(SEQ);
    const timeAt = raw.indexOf(OCCURRED_AT);
    if (seqAt < 0 || timeAt < 0) return;
    const seq = readInteger(raw, seqAt + SEQ.length);
    this.delivered += 1;
    this.latencies.push(Date.now() - Date.parse(raw.toString('latin1', timeAt + OCCURRED_AT.length, timeAt + OCCURRED_AT.length + 24)));
    const n = (this.#deliveries.get(seq) ?? 0) + 1;
    if (n === this.count) {
      this.#deliveries.delete(seq);
      this.completed += 1;
      this.#onComplete?.();
    } else {
      this.#deliveries.set(seq, n);
    }
  }

  /** Resolves once `completed` reaches the target, or after timeoutMs (events lost count as not delivered). */
  async completedAtLeast(target: number, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.completed < target && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        this.#onComplete = resolve;
        setTimeout(resolve, 50);
      });
    }
    this.#onComplete = null;
  }

  resetCounters(): void {
    this.latencies = [];
    this.delivered = 0;
  }

  close(): void {
    for (const socket of this.#sockets) socket.terminate();
  }
}

const ACK = Buffer.from('"connection_ack"');
const SEQ = Buffer.from('"seq":');
const OCCURRED_AT = Buffer.from('"occurredAt":"');

function readInteger(raw: Buffer, at: number): number {
  let value = 0;
  for (let i = at; i < raw.length && raw[i] >= 48 && raw[i] <= 57; i++) value = value * 10 + raw[i] - 48;
  return value;
}

export function percentile(values: number[], p: number): number {
  if (!values.length) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
