import { createHash } from 'node:crypto';
import { type ExecutionArgs, type GraphQLError, createSourceEventStream, execute as executeGraphQL } from 'graphql';
import type { WebSocket } from 'ws';
import { journalDenials } from '../access/denials.ts';
import type { AuditRecord } from '../audit/feed.ts';
import type { Renderer } from '../audit/live-feeds.ts';
import type { Deliver } from '../audit/live-stream.ts';
import type { Context } from '../context.ts';
import type { Services } from '../services.ts';
import { maskUnexpected, withStableCode } from './graphql-server.ts';
import { type SharedExecutions, selectsViewerDependentFields } from './shared-execution.ts';
import type { WriteCoalescer } from './write-coalescer.ts';

/** Unsent bytes on a socket beyond which a subscriber counts as behind: its stream pauses and catches up later. */
const HIGH_WATER_BYTES = 1024 * 1024;
const DRAIN_POLL_MS = 25;

/** Where a subscription's events go: its graphql-ws id on one socket. */
export interface SubscriptionSink {
  id: string;
  ws: WebSocket;
}

/** What every subscription of an app shares: one execution per distinct operation, coalesced writes. */
export interface LiveDelivery {
  shared: SharedExecutions;
  writes: WriteCoalescer;
}

/**
 * What a subscription field returns (LiveAuditStream, or any other live source): it pushes events to a
 * delivery, rendered by the renderer it is given, until it ends or is closed.
 */
export interface LiveSource {
  readonly tenantId: string;
  attach(deliver: Deliver, renderer: Renderer | null): Promise<void>;
  close(): void;
}

function isLiveSource(value: unknown): value is LiveSource {
  const candidate = value as Partial<LiveSource> | null;
  return typeof candidate?.attach === 'function' && typeof candidate.close === 'function' && typeof candidate.tenantId === 'string';
}

/**
 * Runs the subscription field once per subscriber (authorisation, replay position, filter). The journal
 * stream then writes each event straight to the socket as a graphql-ws `next` message, the result already
 * serialised: one execution and one JSON.stringify per event serve every subscriber with the same
 * operation and access. The iterable handed back to graphql-ws yields nothing; it ends with the stream,
 * and graphql-ws's return() (client `complete`, socket closed) closes the stream.
 */
export async function subscribeLive(services: Services, delivery: LiveDelivery, args: ExecutionArgs, sink: SubscriptionSink) {
  const source = await createSourceEventStream(args);
  await journalDenials(args.contextValue as Context);
  if (!(Symbol.asyncIterator in source)) return maskResult(services, source);
  if (!isLiveSource(source)) throw new Error('Subscription fields must return a LiveSource');
  const ended = source.attach(socketDelivery(sink, delivery.writes), renderer(services, delivery.shared, args, source.tenantId));
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

function socketDelivery({ id, ws }: SubscriptionSink, writes: WriteCoalescer): Deliver {
  const prefix = `{"id":${JSON.stringify(id)},"type":"next","payload":`;
  return (_record, payload) => {
    if (ws.readyState !== ws.OPEN) return;
    writes.hold(ws);
    ws.send(`${prefix}${payload}}`);
    if (ws.bufferedAmount > HIGH_WATER_BYTES) return drained(ws);
  };
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
