import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { type ExecutionArgs, type GraphQLError, createSourceEventStream, execute as executeGraphQL } from 'graphql';
import type { WebSocket } from 'ws';
import { journalDenials } from '../api-keys/denials.ts';
import type { AuditRecord } from '../audit/feed.ts';
import type { Renderer } from '../audit/live-feeds.ts';
import { type Deliver, LiveAuditStream } from '../audit/live-stream.ts';
import type { Context } from '../context.ts';
import { eventLoopBusy } from '../event-loop.ts';
import type { Services } from '../services.ts';
import { maskUnexpected, withStableCode } from './graphql-server.ts';
import { type SharedExecutions, selectsViewerDependentFields } from './shared-execution.ts';

/** Unsent bytes on a socket beyond which a subscriber counts as behind: its stream pauses and catches up later. */
const HIGH_WATER_BYTES = 1024 * 1024;
const DRAIN_POLL_MS = 25;

/** Where a subscription's events go: its graphql-ws id on one socket. */
export interface SubscriptionSink {
  id: string;
  ws: WebSocket;
}

/**
 * Runs the subscription field once per subscriber (authorisation, replay position, filter). The journal
 * stream then writes each event straight to the socket as a graphql-ws `next` message, the result already
 * serialised: one execution and one JSON.stringify per event serve every subscriber with the same
 * operation and access. The iterable handed back to graphql-ws yields nothing; it ends with the stream,
 * and graphql-ws's return() (client `complete`, socket closed) closes the stream.
 */
export async function subscribeLive(services: Services, shared: SharedExecutions, args: ExecutionArgs, sink: SubscriptionSink) {
  const source = await createSourceEventStream(args);
  await journalDenials(args.contextValue as Context);
  if (!(Symbol.asyncIterator in source)) return maskResult(services, source);
  if (!(source instanceof LiveAuditStream)) throw new Error('Subscription fields must return a LiveAuditStream');
  const ended = source.attach(socketDelivery(sink), renderer(services, shared, args, source.tenantId));
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next(): Promise<IteratorResult<never>> {
      await ended;
      return { done: true, value: undefined };
    },
    async return(): Promise<IteratorResult<never>> {
      source.close();
      return { done: true, value: undefined };
    },
    async throw(error: unknown): Promise<IteratorResult<never>> {
      source.close();
      throw error;
    },
  };
}

function renderer(services: Services, shared: SharedExecutions, args: ExecutionArgs, tenantId: string): Renderer {
  const ctx = args.contextValue as Context;
  const viewer = ctx.viewer!;
  const access = [...viewer.permissions].sort().join(',') + (selectsViewerDependentFields(args.schema, args.document) ? `|${viewer.user.id}` : '');
  const operation = `${JSON.stringify(args.document.loc?.source.body)}|${JSON.stringify(args.variableValues ?? {})}|${args.operationName ?? ''}|${access}`;
  const key = createHash('sha256').update(operation).digest('base64url');
  return {
    key,
    render: (record: AuditRecord) =>
      shared.run(`${tenantId}|${record.seq}|${key}`, async () => {
        const perEvent: Context = { ...ctx, em: services.db.forTenant(tenantId) };
        return JSON.stringify(maskResult(services, await executeGraphQL({ ...args, rootValue: record, contextValue: perEvent })));
      }),
  };
}

function socketDelivery({ id, ws }: SubscriptionSink): Deliver {
  const prefix = `{"id":${JSON.stringify(id)},"type":"next","payload":`;
  return (_record, payload) => {
    if (ws.readyState !== ws.OPEN) return;
    coalesceWrites(ws);
    ws.send(`${prefix}${payload}}`);
    if (ws.bufferedAmount > HIGH_WATER_BYTES) return drained(ws);
  };
}

/** While the event loop is busy, a socket's writes wait to go out together for at most this long: the
 * latency traded, under load only, for fewer system calls per delivery. */
const BUSY_FLUSH_INTERVAL_MS = 50;

const corked = new Set<Socket>();
let lastFlushAt = 0;

/**
 * Holds a socket's writes until the next flush: events fanned out before it reach a subscriber in one
 * write (one system call, one TCP segment) rather than one each. Idle, the flush comes at the end of this
 * event-loop turn, so nothing waits; busy, at most every BUSY_FLUSH_INTERVAL_MS, so that under a burst
 * each write carries several events (the kernel's per-write cost is most of a delivery's).
 */
function coalesceWrites(ws: WebSocket): void {
  // ws keeps its net.Socket private; cork/uncork nest with its own per-frame corking.
  const socket = (ws as unknown as { _socket?: Socket })._socket;
  if (!socket || corked.has(socket)) return;
  if (!corked.size) scheduleFlush();
  corked.add(socket);
  socket.cork();
}

function scheduleFlush(): void {
  const wait = eventLoopBusy() ? lastFlushAt + BUSY_FLUSH_INTERVAL_MS - performance.now() : 0;
  if (wait > 0) setTimeout(flush, wait);
  else setImmediate(flush);
}

function flush(): void {
  lastFlushAt = performance.now();
  for (const socket of corked) socket.uncork();
  corked.clear();
}

function drained(ws: WebSocket): Promise<void> {
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      if (ws.readyState !== ws.OPEN || ws.bufferedAmount <= HIGH_WATER_BYTES / 4) {
        clearInterval(timer);
        resolve();
      }
    }, DRAIN_POLL_MS);
  });
}

export function maskResult<T extends { errors?: readonly GraphQLError[] }>(services: Services, result: T): T {
  if (!result.errors?.length) return result;
  return { ...result, errors: result.errors.map((error) => withStableCode(maskUnexpected(error, services.log))) };
}
