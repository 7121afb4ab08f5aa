import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { type ExecutionArgs, GraphQLError, createSourceEventStream, execute as executeGraphQL } from 'graphql';
import { CloseCode, handleProtocols, makeServer } from 'graphql-ws';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Viewer } from '../access/viewer.ts';
import { authenticateApiKey } from '../api-keys/authenticate.ts';
import { journalDenials } from '../api-keys/denials.ts';
import type { Context, RequestMeta } from '../context.ts';
import { ErrorCode, clientError } from '../errors.ts';
import type { Services } from '../services.ts';
import { authenticateSession } from '../sessions/authenticate.ts';
import { readCookies } from './cookies.ts';
import type { createGraphQLServer } from './graphql-server.ts';
import { maskUnexpected } from './graphql-server.ts';
import type { LiveSocket, LiveSockets } from './live-sockets.ts';
import { type TrustProxy, requestMeta } from './prepare-request.ts';
import { PreSerialized, RawPayloads, SharedExecutions, selectsViewerDependentFields } from './shared-execution.ts';

type Yoga = ReturnType<typeof createGraphQLServer>;

const MAX_SUBSCRIPTIONS_PER_SOCKET = 20;
const MAX_MESSAGE_BYTES = 64 * 1024;
const KEEP_ALIVE_MS = 12_000;

interface SocketState {
  request: IncomingMessage;
  socket: WebSocket;
  meta: RequestMeta;
  viewer?: Viewer;
  live?: LiveSocket;
  untrack?: () => void;
}

export interface WebSocketOptions {
  path: string;
  trust: TrustProxy;
  tls: boolean;
  allowedOrigins: readonly string[];
}

/**
 * graphql-ws on the HTTP server's port and path. The handshake's Origin is checked against the allowlist
 * (cross-site WebSocket hijacking); the credential is checked on connection_init; the yoga pipeline
 * (limits, masking, scope-auth) runs for every operation; subscription events are executed once per
 * distinct operation and shared.
 */
export function attachWebSockets(services: Services, httpServer: Server, yoga: Yoga, sockets: LiveSockets, options: WebSocketOptions) {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES, handleProtocols });
  const raw = new RawPayloads();
  const shared = new SharedExecutions();

  const server = makeServer<Record<string, unknown> | undefined, SocketState>({
    connectionInitWaitTimeout: 3_000,
    jsonMessageReplacer: raw.replacer,
    onConnect: async (ctx) => {
      const viewer = await authenticate(services, ctx.extra, ctx.connectionParams);
      if (!viewer) return false;
      ctx.extra.viewer = viewer;
      ctx.extra.live = liveSocket(viewer, ctx.extra.socket);
      ctx.extra.untrack = sockets.add(ctx.extra.live);
      return true;
    },
    onSubscribe: async (ctx, _id, payload) => {
      if (Object.keys(ctx.subscriptions).length > MAX_SUBSCRIPTIONS_PER_SOCKET) {
        return [clientError(ErrorCode.RATE_LIMITED, `At most ${MAX_SUBSCRIPTIONS_PER_SOCKET} operations per connection.`)];
      }
      const { viewer, live, meta, request } = ctx.extra;
      const vigil = { meta, auth: { viewer: viewer ?? null, em: viewer ? services.db.forTenant(viewer.tenantId) : null }, responseHeaders: null };
      const enveloped = yoga.getEnveloped({ req: request, request, params: payload, vigil });
      const document = enveloped.parse(payload.query);
      const contextValue = (await enveloped.contextFactory()) as unknown as Context;
      if (live) contextValue.liveSocket = { requires: (permission) => live.needs.add(permission) };
      const args: ExecutionArgs = { schema: enveloped.schema, document, operationName: payload.operationName, variableValues: payload.variables, contextValue };
      const errors = enveloped.validate(args.schema, document);
      return errors.length ? errors : args;
    },
    execute: async (args) => {
      const result = await executeGraphQL(args);
      await journalDenials(args.contextValue as Context);
      return result;
    },
    subscribe: (args) => subscribeShared(services, shared, args) as never,
    onNext: (_ctx, _id, _payload, _args, result) => (result instanceof PreSerialized ? (result as never) : undefined),
    onClose: (ctx) => ctx.extra.untrack?.(),
  });

  httpServer.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(request.url ?? '/', 'http://vigil.invalid');
    if (url.pathname !== options.path) return refuse(socket, 404, 'Not Found');
    const origin = request.headers.origin;
    if (origin !== undefined && !options.allowedOrigins.includes(origin)) return refuse(socket, 403, 'Forbidden');
    wss.handleUpgrade(request, socket, head, (ws) => onConnection(ws, request));
  });

  function onConnection(ws: WebSocket, request: IncomingMessage): void {
    const state: SocketState = { request, socket: ws, meta: requestMeta(request, options.trust, options.tls) };
    const keepAlive = setInterval(() => ws.readyState === ws.OPEN && ws.ping(), KEEP_ALIVE_MS);
    const closed = server.opened(
      {
        protocol: ws.protocol,
        send: (data) =>
          new Promise<void>((resolve, reject) => {
            const message = raw.splice(data);
            if (ws.readyState !== ws.OPEN) return resolve();
            ws.send(message, (error) => (error ? reject(error) : resolve()));
          }),
        close: (code, reason) => ws.close(code, reason),
        onMessage: (callback) =>
          ws.on('message', async (data) => {
            try {
              await callback(String(data));
            } catch (error) {
              services.log.error({ err: error }, 'WebSocket message handling failed');
              ws.close(CloseCode.InternalServerError, 'Internal server error');
            }
          }),
      },
      state,
    );
    ws.once('close', (code, reason) => {
      clearInterval(keepAlive);
      void closed(code, String(reason));
    });
    ws.on('error', () => ws.terminate());
  }

  return {
    async close(): Promise<void> {
      for (const client of wss.clients) client.close(1001, 'Going away');
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

function refuse(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/**
 * A session token or API key from connection_init's payload, or the session cookie of the upgrade —
 * the cookie only when the browser named its Origin, which the allowlist has already approved.
 */
async function authenticate(services: Services, state: SocketState, params: Record<string, unknown> | undefined): Promise<Viewer | null> {
  const fromParams = credentialFrom(params);
  const cookie = state.request.headers.origin ? readCookies(state.request.headers.cookie, state.meta.secure).session : null;
  const credential = fromParams ?? (cookie ? { kind: 'session' as const, value: cookie } : null);
  if (!credential) return null;
  if (credential.kind === 'api_key') return (await authenticateApiKey(services, credential.value, state.meta)).viewer;
  return (await authenticateSession(services, credential.value, state.meta, { rotate: false, touch: true })).viewer;
}

function credentialFrom(params: Record<string, unknown> | undefined): { kind: 'session' | 'api_key'; value: string } | null {
  if (!params) return null;
  const bearer = typeof params.authorization === 'string' ? /^Bearer\s+(\S+)$/i.exec(params.authorization)?.[1] : undefined;
  const value = bearer ?? (typeof params.apiKey === 'string' ? params.apiKey : typeof params.token === 'string' ? params.token : undefined);
  if (!value) return null;
  return { kind: value.startsWith('vgl_') ? 'api_key' : 'session', value };
}

function liveSocket(viewer: Viewer, ws: WebSocket): LiveSocket {
  const principal = viewer.kind === 'session' ? { kind: 'session' as const, sessionId: viewer.session.id } : { kind: 'api_key' as const, apiKeyId: viewer.apiKeyId };
  const session = viewer.kind === 'session' ? viewer.session : null;
  const idleEnd = session ? new Date(session.lastSeenAt.getTime() + viewer.tenant.idleTimeoutSeconds * 1000) : null;
  return {
    tenantId: viewer.tenantId,
    userId: viewer.user.id,
    principal,
    needs: new Set(),
    deadline: session && idleEnd ? (idleEnd < session.expiresAt ? idleEnd : session.expiresAt) : null,
    close: (code, reason) => ws.close(code, reason),
  };
}

/**
 * Runs the subscription field once per subscriber (authorisation, replay, filter), then executes its
 * selection once per event and operation, shared by every subscriber with the same access.
 */
async function subscribeShared(services: Services, shared: SharedExecutions, args: ExecutionArgs) {
  const source = await createSourceEventStream(args);
  await journalDenials(args.contextValue as Context);
  if (!(Symbol.asyncIterator in source)) return maskResult(services, source);
  const ctx = args.contextValue as Context;
  const viewer = ctx.viewer!;
  const access = [...viewer.permissions].sort().join(',') + (selectsViewerDependentFields(args.schema, args.document) ? `|${viewer.user.id}` : '');
  const operation = `${JSON.stringify(args.document.loc?.source.body)}|${JSON.stringify(args.variableValues ?? {})}|${args.operationName ?? ''}|${access}`;
  const iterator = source[Symbol.asyncIterator]();
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next(): Promise<IteratorResult<PreSerialized>> {
      const step = await iterator.next();
      if (step.done) return { done: true, value: undefined };
      const event = step.value as { seq: number };
      const value = await shared.run(`${viewer.tenantId}|${event.seq}|${operation}`, async () => {
        const perEvent: Context = { ...ctx, em: services.db.forTenant(viewer.tenantId) };
        return maskResult(services, await executeGraphQL({ ...args, rootValue: event, contextValue: perEvent }));
      });
      return { done: false, value };
    },
    // A hand-written iterator, not an async generator: return() must end a stream that waits for its next event.
    async return(): Promise<IteratorResult<PreSerialized>> {
      await iterator.return?.();
      return { done: true, value: undefined };
    },
    async throw(error: unknown): Promise<IteratorResult<PreSerialized>> {
      await iterator.return?.();
      throw error;
    },
  };
}

function maskResult<T extends { errors?: readonly GraphQLError[] }>(services: Services, result: T): T {
  if (!result.errors?.length) return result;
  return { ...result, errors: result.errors.map((error) => maskUnexpected(error, services.log)) };
}

