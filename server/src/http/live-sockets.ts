import { CloseCode } from 'graphql-ws';
import { type AccessSignal, onAccessSignal } from '../access/access-signals.ts';
import { isPermission, type Permission } from '../access/permissions.ts';
import { ApiKey } from '../api-keys/api-key.entity.ts';
import { isUsable } from '../api-keys/api-keys.ts';
import type { Services } from '../services.ts';
import { isExpired } from '../sessions/authenticate.ts';
import { Session } from '../sessions/session.entity.ts';
import { endSessions } from '../sessions/sessions.ts';
import { inTenantTransaction } from '../unit-of-work.ts';

export type Principal = { kind: 'session'; sessionId: string } | { kind: 'api_key'; apiKeyId: string };

export interface LiveSocket {
  readonly tenantId: string;
  readonly userId: string;
  readonly principal: Principal;
  /** Permissions the socket's subscriptions rely on; losing one closes the socket. */
  readonly needs: Set<Permission>;
  /** When the credential runs out if nothing changes (absolute or idle expiry, end of a key's grace). */
  deadline: Date | null;
  close(code: number, reason: string): void;
}

const SWEEP_INTERVAL_MS = 250;

/**
 * Every open WebSocket with the credential it was opened with. An access signal (session ended, user
 * or role changed, key revoked) or a passed deadline re-checks the affected sockets against the database
 * and closes those no longer allowed with 4403, well within a second.
 */
export class LiveSockets {
  readonly #sockets = new Set<LiveSocket>();
  readonly #stopSignals: () => void;
  readonly #sweep: NodeJS.Timeout;

  constructor(private readonly services: Services) {
    this.#stopSignals = onAccessSignal(services.bus, (signal) => void this.#onSignal(signal));
    this.#sweep = setInterval(() => void this.#sweepDeadlines(), SWEEP_INTERVAL_MS);
    this.#sweep.unref();
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
  }

  async #onSignal(signal: AccessSignal): Promise<void> {
    const affected = [...this.#sockets].filter((s) => s.tenantId === signal.tenantId && concerns(signal, s));
    await Promise.all(affected.map((socket) => this.revalidate(socket)));
  }

  async #sweepDeadlines(): Promise<void> {
    const now = this.services.clock.now();
    const due = [...this.#sockets].filter((s) => s.deadline && s.deadline <= now);
    await Promise.all(due.map((socket) => this.revalidate(socket)));
  }

  /** Re-reads the credential; closes the socket when it is no longer valid or lacks a needed permission. */
  async revalidate(socket: LiveSocket): Promise<void> {
    try {
      const state = socket.principal.kind === 'session' ? await this.#sessionState(socket, socket.principal.sessionId) : await this.#keyState(socket, socket.principal.apiKeyId);
      const missing = state && [...socket.needs].some((p) => !state.permissions.has(p));
      if (!state || missing) return this.#close(socket);
      socket.deadline = state.deadline;
    } catch (error) {
      this.services.log.error({ err: error }, 'could not re-check a live socket; closing it');
      this.#close(socket);
    }
  }

  #close(socket: LiveSocket): void {
    this.#sockets.delete(socket);
    socket.close(CloseCode.Forbidden, 'Forbidden');
  }

  async #sessionState(socket: LiveSocket, sessionId: string) {
    const em = this.services.db.forTenant(socket.tenantId);
    const session = await em.findOne(Session, sessionId, { populate: ['user.role', 'tenant'] });
    if (!session || session.endedAt || session.user.disabledAt) return null;
    const now = this.services.clock.now();
    if (isExpired(session, session.tenant, now)) {
      const system = { actorType: 'system' as const, actorId: null, sessionId: session.id, ip: null, userAgent: null };
      await inTenantTransaction(this.services, socket.tenantId, system, (work) => endSessions(work, { ids: [session.id] }, 'expired', now));
      return null;
    }
    const idleEnd = new Date(session.lastSeenAt.getTime() + session.tenant.idleTimeoutSeconds * 1000);
    return {
      permissions: new Set(session.user.role.permissions.filter(isPermission)),
      deadline: idleEnd < session.expiresAt ? idleEnd : session.expiresAt,
    };
  }

  async #keyState(socket: LiveSocket, apiKeyId: string) {
    const key = await this.services.db.forTenant(socket.tenantId).findOne(ApiKey, apiKeyId, { populate: ['user.role'] });
    const now = this.services.clock.now();
    if (!key || !isUsable(key, now) || key.user.disabledAt) return null;
    const held = new Set(key.user.role.permissions);
    const ends = [key.expiresAt, key.validUntil].filter((d): d is Date => d !== null).sort((a, b) => a.getTime() - b.getTime());
    return { permissions: new Set(key.permissions.filter((p): p is Permission => isPermission(p) && held.has(p))), deadline: ends[0] ?? null };
  }
}

function concerns(signal: AccessSignal, socket: LiveSocket): boolean {
  if (signal.everyone) return true;
  if (signal.userIds?.includes(socket.userId)) return true;
  const p = socket.principal;
  return p.kind === 'session' ? Boolean(signal.sessionIds?.includes(p.sessionId)) : Boolean(signal.apiKeyIds?.includes(p.apiKeyId));
}
