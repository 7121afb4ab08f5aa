import { CloseCode } from 'graphql-ws';
import { LRUCache } from 'lru-cache';
import { ACCESS_CHANGE_WINDOW_SECONDS, type AccessSignal, onAccessSignal, recentAccessChanges } from '../access/access-signals.ts';
import type { Permission } from '../access/permissions.ts';
import { type Viewer, sessionViewer } from '../access/viewer.ts';
import { apiKeyDeadline, apiKeyViewer } from '../api-keys/authenticate.ts';
import { databaseUnavailable } from '../db/connection-errors.ts';
import type { Services } from '../services.ts';
import { endExpiredSession, judgeSession } from '../sessions/session-judge.ts';
import { supportSnapshot, supportViewer } from '../support/support-access.ts';

export type Principal = { kind: 'session'; sessionId: string } | { kind: 'api_key'; apiKeyId: string } | { kind: 'support'; supportSessionId: string };

export function principalOf(viewer: Viewer): Principal {
  if (viewer.kind === 'session') return { kind: 'session', sessionId: viewer.session.id };
  if (viewer.kind === 'api_key') return { kind: 'api_key', apiKeyId: viewer.apiKeyId };
  return { kind: 'support', supportSessionId: viewer.supportSessionId };
}

export interface LiveSocket {
  readonly tenantId: string;
  readonly userId: string;
  readonly principal: Principal;
  /**
   * What the credential held when the socket opened: losing any of it closes the socket (its open
   * subscriptions were authorized, and are rendered, with these rights; the client reconnects with its new ones).
   */
  readonly permissions: ReadonlySet<Permission>;
  /** When the credential runs out if nothing changes (absolute or idle expiry, end of a key's grace). */
  deadline: Date | null;
  close(code: number, reason: string): void;
}

const SWEEP_INTERVAL_MS = 250;

/**
 * Every open WebSocket with the credential it was opened with. An access signal (session ended, user
 * or role changed, key revoked) or a passed deadline re-checks the affected sockets against the database
 * and closes those no longer allowed with 4403, well within a second. Signals come through the bus (at
 * once) and, so that revocation never depends on Redis, from access_change rows read every
 * `accessPollMs` for the tenants with sockets here; each signal is acted on once, whichever comes first.
 */
export class LiveSockets {
  readonly #sockets = new Set<LiveSocket>();
  readonly #stopSignals: () => void;
  readonly #sweep: NodeJS.Timeout;
  readonly #poll: NodeJS.Timeout | null;
  readonly #applied = new LRUCache<string, true>({ max: 50_000, ttl: 2 * ACCESS_CHANGE_WINDOW_SECONDS * 1000 });
  #polling = false;

  constructor(
    private readonly services: Services,
    accessPollMs: number,
  ) {
    this.#stopSignals = onAccessSignal(services.bus, (signal) => this.#apply(signal));
    this.#sweep = setInterval(() => void this.#sweepDeadlines(), SWEEP_INTERVAL_MS);
    this.#sweep.unref();
    this.#poll = accessPollMs > 0 ? setInterval(() => void this.#pollChanges(), accessPollMs) : null;
    this.#poll?.unref();
  }

  add(socket: LiveSocket): () => void {
    this.#sockets.add(socket);
    return () => this.#sockets.delete(socket);
  }

  get size(): number {
    return this.#sockets.size;
  }

  stop(): void {
    this.#stopSignals();
    clearInterval(this.#sweep);
    if (this.#poll) clearInterval(this.#poll);
  }

  #apply(signal: AccessSignal): void {
    if (this.#applied.has(signal.id)) return;
    this.#applied.set(signal.id, true);
    const affected = [...this.#sockets].filter((s) => s.tenantId === signal.tenantId && concerns(signal, s));
    for (const socket of affected) void this.revalidate(socket);
  }

  /** The backstop: one small query for the tenants with sockets here, skipped when there are none. */
  async #pollChanges(): Promise<void> {
    if (this.#polling || !this.#sockets.size) return;
    this.#polling = true;
    try {
      const tenants = [...new Set([...this.#sockets].map((s) => s.tenantId))];
      for (const signal of await recentAccessChanges(this.services.db, tenants)) this.#apply(signal);
    } catch (error) {
      // The database away: sockets are checked again on the next round, and the deadlines still sweep.
      this.services.log.debug({ err: error }, 'could not read recent access changes');
    } finally {
      this.#polling = false;
    }
  }

  async #sweepDeadlines(): Promise<void> {
    const now = this.services.clock.now();
    const due = [...this.#sockets].filter((s) => s.deadline && s.deadline <= now);
    await Promise.all(due.map((socket) => this.revalidate(socket)));
  }

  /**
   * The socket's viewer now, read again by id (the socket proved its secret when it opened: presenting it
   * again would look like reuse once the browser has rotated its cookie), or null when the credential no
   * longer works. A session found expired is ended here, as HTTP authentication would.
   */
  async current(socket: LiveSocket): Promise<{ viewer: Viewer; deadline: Date | null } | null> {
    const now = this.services.clock.now();
    if (socket.principal.kind === 'support') {
      const found = await supportSnapshot(this.services, socket.principal.supportSessionId);
      const viewer = found && found.tenant.id === socket.tenantId ? supportViewer(found, now) : null;
      return viewer && { viewer, deadline: viewer.expiresAt };
    }
    if (socket.principal.kind === 'api_key') {
      const found = await this.services.credentials.apiKey(socket.principal.apiKeyId);
      const viewer = found && found.tenant.id === socket.tenantId ? apiKeyViewer(found, now) : null;
      return viewer && found ? { viewer, deadline: apiKeyDeadline(found.apiKey) } : null;
    }
    const found = await this.services.credentials.session(socket.principal.sessionId);
    if (!found || found.tenant.id !== socket.tenantId) return null;
    const verdict = judgeSession(found.session, found.user, found.tenant, now);
    if (verdict.alive) return { viewer: sessionViewer(found.tenant, found.user, found.session), deadline: verdict.deadline };
    if (verdict.reason === 'expired') await endExpiredSession(this.services, socket.tenantId, found.session.id, { ip: null, userAgent: null });
    return null;
  }

  /** Whether the viewer still holds every right the socket opened with. */
  keepsRights(socket: LiveSocket, viewer: Viewer): boolean {
    return [...socket.permissions].every((permission) => viewer.permissions.has(permission));
  }

  /** Re-reads the credential; closes the socket when it no longer works or lost a right it opened with. */
  async revalidate(socket: LiveSocket): Promise<void> {
    try {
      const state = await this.current(socket);
      if (!state || !this.keepsRights(socket, state.viewer)) return this.close(socket);
      socket.deadline = state.deadline;
    } catch (error) {
      if (databaseUnavailable(error)) return; // the database away: checked again on the next signal, poll or sweep
      this.services.log.error({ err: error }, 'could not re-check a live socket; closing it');
      this.close(socket);
    }
  }

  close(socket: LiveSocket): void {
    this.#sockets.delete(socket);
    socket.close(CloseCode.Forbidden, 'Forbidden');
  }
}

function concerns(signal: AccessSignal, socket: LiveSocket): boolean {
  if (signal.everyone) return true;
  if (signal.userIds?.includes(socket.userId)) return true;
  const p = socket.principal;
  if (p.kind === 'support') return false;
  return p.kind === 'session' ? Boolean(signal.sessionIds?.includes(p.sessionId)) : Boolean(signal.apiKeyIds?.includes(p.apiKeyId));
}
