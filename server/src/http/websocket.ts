import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { type DocumentNode, type ExecutionArgs, GraphQLError, execute as executeGraphQL } from 'graphql';
import { CloseCode, type Context as ProtocolContext, handleProtocols, makeServer } from 'graphql-ws';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Viewer } from '../access/viewer.ts';
import { authenticateApiKey } from '../api-keys/authenticate.ts';
import { journalDenials } from '../access/denials.ts';
import type { Context, RequestMeta } from '../context.ts';
import { databaseUnavailable } from '../db/connection-errors.ts';
import { ErrorCode, clientError, rateLimited } from '../errors.ts';
import type { Services } from '../services.ts';
import { authenticateSession } from '../sessions/authenticate.ts';
import { authenticateSupport } from '../support/support-access.ts';
import { admitSupportOperation } from '../support/support-journal.ts';
import { spendOperation } from './budget.ts';
import { socketCredential } from './credentials.ts';
import { type createGraphQLServer, withStableCode } from './graphql-server.ts';
import { type LiveSocket, type LiveSockets, principalOf } from './live-sockets.ts';
import { type LiveDelivery, type SubscriptionSink, maskResult, subscribeLive } from './live-subscriptions.ts';
import { CREDENTIAL_IN_URL_MESSAGE, type TrustProxy, credentialInUrl, requestMeta } from './prepare-request.ts';
import { SharedExecutions } from './shared-execution.ts';
import { WriteCoalescer } from './write-coalescer.ts';

type Yoga = ReturnType<typeof createGraphQLServer>;
type Protocol = ReturnType<typeof makeServer<Record<string, unknown> | undefined, SocketState>>;

const MAX_SUBSCRIPTIONS_PER_SOCKET = 20;
const TRY_AGAIN_LATER = 1013;
const MAX_MESSAGE_BYTES = 64 * 1024;

interface SocketState {
  request: IncomingMessage;
  socket: WebSocket;
  meta: RequestMeta;
  live?: LiveSocket;
  untrack?: () => void;
}

export interface WebSocketOptions {
  path: string;
  trust: TrustProxy;
  tls: boolean;
  /** Production behind a TLS-terminating proxy: an upgrade that did not arrive over HTTPS is refused. */
  requireTls: boolean;
  allowedOrigins: readonly string[];
}

/**
 * graphql-ws on the HTTP server's port and path. The handshake's Origin is checked against the allowlist
 * (cross-site WebSocket hijacking); the credential is checked on connection_init; the yoga pipeline
 * (limits, masking, scope-auth) runs for every operation, with the credential's rights at that moment;
 * subscription events are executed once per distinct operation and shared.
 */
export function attachWebSockets(services: Services, httpServer: Server, yoga: Yoga, sockets: LiveSockets, options: WebSocketOptions) {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES, handleProtocols });
  const delivery: LiveDelivery = { shared: new SharedExecutions(), writes: new WriteCoalescer(services.eventLoop) };
  const protocol = graphqlWs(services, yoga, sockets, delivery);
  httpServer.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const refusal = upgradeRefusal(request, options);
    if (refusal) return refuse(socket, ...refusal);
    wss.handleUpgrade(request, socket, head, (ws) => serve(services, protocol, ws, { request, socket: ws, meta: requestMeta(request, options.trust, options.tls) }));
  });
  return {
    async close(): Promise<void> {
      for (const client of wss.clients) client.close(1001, 'Going away');
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

type Refusal = [status: number, text: string, body?: unknown];

/** What the handshake is refused with, before anything is upgraded, or null. */
function upgradeRefusal(request: IncomingMessage, options: WebSocketOptions): Refusal | null {
  const url = new URL(request.url ?? '/', 'http://vigil.invalid');
  if (url.pathname !== options.path) return [404, 'Not Found'];
  // As over HTTP: a credential in the URL is refused whatever it carries.
  if (credentialInUrl(url)) return [400, 'Bad Request', { errors: [{ message: CREDENTIAL_IN_URL_MESSAGE, extensions: { code: ErrorCode.BAD_USER_INPUT } }] }];
  if (options.requireTls && !requestMeta(request, options.trust, options.tls).secure) return [403, 'Forbidden'];
  const origin = request.headers.origin;
  if (origin !== undefined && !options.allowedOrigins.includes(origin)) return [403, 'Forbidden'];
  return null;
}

function graphqlWs(services: Services, yoga: Yoga, sockets: LiveSockets, delivery: LiveDelivery): Protocol {
  const sinks = new WeakMap<object, SubscriptionSink>();
  return makeServer<Record<string, unknown> | undefined, SocketState>({
    connectionInitWaitTimeout: 3_000,
    onConnect: async (ctx) => {
      const viewer = await authenticate(services, ctx.extra, ctx.connectionParams);
      if (!viewer) return false;
      const live = liveSocket(viewer, ctx.extra.socket);
      live.deadline = (await sockets.current(live))?.deadline ?? null;
      ctx.extra.live = live;
      ctx.extra.untrack = sockets.add(live);
      return true;
    },
    onSubscribe: async (ctx, id, payload) => {
      const prepared = await operation(services, yoga, sockets, ctx, payload);
      if (!('document' in prepared)) return prepared;
      sinks.set(prepared.contextValue as object, { id, ws: ctx.extra.socket });
      return prepared;
    },
    execute: async (args) => {
      const result = await executeGraphQL(args);
      await journalDenials(args.contextValue as Context);
      return maskResult(services, result);
    },
    subscribe: (args) => subscribeLive(services, delivery, args, sinks.get(args.contextValue as object)!) as never,
    onClose: (ctx) => ctx.extra.untrack?.(),
  });
}

type SubscribePayload = { query: string; operationName?: string | null; variables?: Record<string, unknown> | null };

/** One operation's execution arguments, authorized with the credential's rights now; or its errors. */
async function operation(
  services: Services,
  yoga: Yoga,
  sockets: LiveSockets,
  ctx: ProtocolContext<Record<string, unknown> | undefined, SocketState>,
  payload: SubscribePayload,
): Promise<ExecutionArgs | readonly GraphQLError[]> {
  if (Object.keys(ctx.subscriptions).length > MAX_SUBSCRIPTIONS_PER_SOCKET) {
    return [clientError(ErrorCode.RATE_LIMITED, `At most ${MAX_SUBSCRIPTIONS_PER_SOCKET} operations per connection.`)];
  }
  const { live, meta, request } = ctx.extra;
  const current = live ? await sockets.current(live) : null;
  if (!live || !current || !sockets.keepsRights(live, current.viewer)) {
    if (live) sockets.close(live);
    return [clientError(current ? ErrorCode.FORBIDDEN : ErrorCode.UNAUTHENTICATED)];
  }
  const viewer = current.viewer;
  const wait = await spendOperation(services, meta, viewer);
  if (wait !== null) return [rateLimited(wait)];
  const vigil = { meta, auth: { viewer, em: services.db.forTenant(viewer.tenantId) }, cookies: null };
  const enveloped = yoga.getEnveloped({ req: request, request, params: payload, vigil });
  let document: DocumentNode;
  try {
    document = enveloped.parse(payload.query);
  } catch (error) {
    // A syntax error (or a limit) is the client's: an error message on this operation, not a 4500 close.
    if (error instanceof GraphQLError) return [withStableCode(error)];
    throw error;
  }
  const contextValue = (await enveloped.contextFactory()) as unknown as Context;
  const errors = enveloped.validate(enveloped.schema, document);
  if (errors.length) return errors.map(withStableCode);
  const refused = await admitSupportOperation(contextValue, document, payload.operationName);
  if (refused) return [refused];
  return { schema: enveloped.schema, document, operationName: payload.operationName, variableValues: payload.variables, contextValue };
}

/** One socket: its messages through graphql-ws, kept alive by pings; a peer that stops answering is dropped. */
function serve(services: Services, protocol: Protocol, ws: WebSocket, state: SocketState): void {
  let answered = true;
  ws.on('pong', () => (answered = true));
  const keepAlive = setInterval(() => {
    if (ws.readyState !== ws.OPEN) return;
    if (!answered) return ws.terminate();
    answered = false;
    ws.ping();
  }, services.config.wsKeepAliveSeconds * 1000);
  const closed = protocol.opened(
    {
      protocol: ws.protocol,
      send: (data) =>
        new Promise<void>((resolve, reject) => {
          if (ws.readyState !== ws.OPEN) return resolve();
          ws.send(data, (error) => (error ? reject(error) : resolve()));
        }),
      close: (code, reason) => ws.close(code, reason),
      onMessage: (callback) =>
        ws.on('message', async (data) => {
          try {
            await callback(String(data));
          } catch (error) {
            // 1013 "Try Again Later": the database is away, not the client wrong nor the server broken.
            if (databaseUnavailable(error)) return ws.close(TRY_AGAIN_LATER, 'Service unavailable');
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

function refuse(socket: Duplex, status: number, text: string, body?: unknown): void {
  const payload = body === undefined ? '' : JSON.stringify(body);
  const type = body === undefined ? '' : 'Content-Type: application/json; charset=utf-8\r\n';
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\n${type}Content-Length: ${Buffer.byteLength(payload)}\r\n\r\n${payload}`);
}

/** The credential of connection_init or the upgrade's cookie; a socket does not rotate its token. */
async function authenticate(services: Services, state: SocketState, params: Record<string, unknown> | undefined): Promise<Viewer | null> {
  const credential = socketCredential(state.request, params, state.meta);
  if (!credential) return null;
  if (credential.kind === 'api_key') return (await authenticateApiKey(services, credential.value, state.meta)).viewer;
  if (credential.kind === 'support') return (await authenticateSupport(services, credential.value)).viewer;
  return (await authenticateSession(services, credential.value, state.meta, { rotate: false, touch: true })).viewer;
}

function liveSocket(viewer: Viewer, ws: WebSocket): LiveSocket {
  const principal = principalOf(viewer);
  return {
    tenantId: viewer.tenantId,
    userId: viewer.user.id,
    principal,
    permissions: viewer.permissions,
    deadline: null,
    close: (code, reason) => ws.close(code, reason),
  };
}
