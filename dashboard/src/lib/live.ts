import { type Client, type ClientOptions, createClient } from 'graphql-ws';

/** The live connection as the user sees it. */
export type LinkState = 'connecting' | 'live' | 'reconnecting' | 'closed';

/** Vigil closes the socket with this when the session is revoked or expired, or a permission is gone. */
export const CLOSE_FORBIDDEN = 4403;
const KEEP_ALIVE_MS = 15_000;
/** A ping unanswered for this long means a dead link (laptop asleep, network changed): close and reconnect. */
const PONG_TIMEOUT_MS = 5_000;
const MAX_RETRY_WAIT_MS = 10_000;

export function isCloseEvent(value: unknown): value is { code: number; reason: string } {
  return typeof value === 'object' && value !== null && 'code' in value && 'reason' in value;
}

function sameOriginUrl(): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`;
}

/**
 * A graphql-ws client for `ws(s)://<this host>/graphql`. The browser sends the HttpOnly session cookie
 * on the upgrade, so no credential is handled here (an app outside a browser passes `connectionParams`).
 * It retries for as long as the page wants it, with a backoff capped at 10 s, except after 4403, where
 * only signing in again can help.
 */
export function createLiveClient(
  onState: (state: LinkState) => void,
  url = sameOriginUrl(),
  options: Pick<ClientOptions, 'connectionParams' | 'webSocketImpl'> = {},
): Client {
  let socket: WebSocket | null = null;
  let pongTimer: ReturnType<typeof setTimeout> | undefined;
  return createClient({
    ...options,
    url,
    keepAlive: KEEP_ALIVE_MS,
    retryAttempts: Number.POSITIVE_INFINITY,
    retryWait: (retries) =>
      new Promise((resolve) => setTimeout(resolve, Math.min(MAX_RETRY_WAIT_MS, 500 * 2 ** retries) * (0.5 + Math.random() / 2))),
    shouldRetry: (reason) => !(isCloseEvent(reason) && reason.code === CLOSE_FORBIDDEN),
    on: {
      connecting: (isRetry) => onState(isRetry ? 'reconnecting' : 'connecting'),
      connected: (opened) => {
        socket = opened as WebSocket;
        onState('live');
      },
      closed: () => {
        socket = null;
        clearTimeout(pongTimer);
        onState('reconnecting');
      },
      ping: (received) => {
        if (received) return;
        pongTimer = setTimeout(() => socket?.readyState === WebSocket.OPEN && socket.close(4408, 'Pong timeout'), PONG_TIMEOUT_MS);
      },
      pong: (received) => {
        if (received) clearTimeout(pongTimer);
      },
    },
  });
}
