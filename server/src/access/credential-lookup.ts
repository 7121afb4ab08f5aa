import type { EntityManager } from '@mikro-orm/postgresql';
import DataLoader from 'dataloader';
import type { Database } from '../db/database.ts';
import type { ApiKeyView, RoleView, SessionView, TenantView, UserView } from './viewer.ts';

type Row = Record<string, unknown>;

export interface SessionSnapshot {
  em: EntityManager;
  tenant: TenantView;
  user: UserView;
  session: SessionView;
}

export interface ApiKeySnapshot {
  em: EntityManager;
  tenant: TenantView;
  user: UserView;
  apiKey: ApiKeyView;
}

type Snapshot = Record<string, Row>;

/**
 * Reads credentials with their user, role and tenant through the SECURITY DEFINER functions of the
 * security migration, as plain values, with a fresh EntityManager of that tenant for the rest of the
 * request (both walls apply from there on). Lookups arriving in the same tick go to PostgreSQL as one
 * statement: under load, one round trip serves many requests. Nothing is cached across requests.
 */
export class CredentialLookup {
  readonly #sessions: DataLoader<string, Snapshot | null>;
  readonly #apiKeys: DataLoader<string, Snapshot | null>;

  constructor(private readonly db: Database) {
    this.#sessions = batchOf(db, 'vigil_session_auth', 'session');
    this.#apiKeys = batchOf(db, 'vigil_api_key_auth', 'apiKey');
  }

  async session(sessionId: string): Promise<SessionSnapshot | null> {
    const row = await this.#sessions.load(sessionId);
    if (!row) return null;
    const s = row.session;
    return {
      ...common(this.db, row),
      session: {
        id: String(s.id),
        user: { id: String(s.user_id) },
        secretHash: String(s.secret_hash),
        previousSecretHash: text(s.previous_secret_hash),
        previousValidUntil: time(s.previous_valid_until),
        createdAt: time(s.created_at)!,
        rotatedAt: time(s.rotated_at)!,
        lastSeenAt: time(s.last_seen_at)!,
        expiresAt: time(s.expires_at)!,
        ip: text(s.ip),
        userAgent: text(s.user_agent),
        authMethod: String(s.auth_method),
        endedAt: time(s.ended_at),
        endReason: text(s.end_reason) as SessionView['endReason'],
      },
    };
  }

  async apiKey(apiKeyId: string): Promise<ApiKeySnapshot | null> {
    const row = await this.#apiKeys.load(apiKeyId);
    if (!row) return null;
    const k = row.apiKey;
    return {
      ...common(this.db, row),
      apiKey: {
        id: String(k.id),
        user: { id: String(k.user_id) },
        prefix: String(k.prefix),
        secretHash: String(k.secret_hash),
        permissions: k.permissions as string[],
        expiresAt: time(k.expires_at),
        lastUsedAt: time(k.last_used_at),
        revokedAt: time(k.revoked_at),
        validUntil: time(k.valid_until),
      },
    };
  }
}

export interface SignInAccount {
  tenant: TenantView;
  /** Null when no user has this email in the tenant. */
  user: (UserView & { passwordHash: string }) | null;
}

/** The tenant of a company address and its user with an email, with the password hash, or null. */
export async function signInAccount(db: Database, slug: string, email: string): Promise<SignInAccount | null> {
  const [result] = await db.prepared<{ row: unknown }>('vigil_sign_in_account', 'select vigil_sign_in_account($1, $2) as row', [slug, email]);
  return readSignInAccount(db, result?.row);
}

/** The result of vigil_sign_in_account, as returned by the driver (JSON text or parsed). */
export function readSignInAccount(db: Database, value: unknown): SignInAccount | null {
  const row = typeof value === 'string' ? (JSON.parse(value) as Snapshot) : (value as Snapshot | null | undefined);
  if (!row) return null;
  if (!row.user) return { tenant: tenantOf(row.tenant), user: null };
  const { tenant, user } = common(db, row);
  return { tenant, user: { ...user, passwordHash: String(row.user.password_hash) } };
}

function batchOf(db: Database, fn: 'vigil_session_auth' | 'vigil_api_key_auth', key: 'session' | 'apiKey') {
  return new DataLoader<string, Snapshot | null>(
    async (ids) => {
      const rows = await db.prepared<{ row: Snapshot | string }>(fn, `select row from ${fn}($1::uuid[]) as row`, [ids]);
      const byId = new Map<string, Snapshot>();
      for (const { row } of rows) {
        const snapshot = typeof row === 'string' ? (JSON.parse(row) as Snapshot) : row;
        byId.set(String(snapshot[key].id), snapshot);
      }
      return ids.map((id) => byId.get(id) ?? null);
    },
    // setImmediate: every request whose bytes arrived in this turn of the event loop joins the batch.
    { cache: false, maxBatchSize: 200, batchScheduleFn: (dispatch) => setImmediate(dispatch) },
  );
}

function tenantOf(t: Row): TenantView {
  return {
    id: String(t.id),
    slug: String(t.slug),
    name: String(t.name),
    createdAt: time(t.created_at)!,
    idleTimeoutSeconds: Number(t.idle_timeout_seconds),
    absoluteTimeoutSeconds: Number(t.absolute_timeout_seconds),
    rotationIntervalSeconds: Number(t.rotation_interval_seconds),
    rotationGraceSeconds: Number(t.rotation_grace_seconds),
    apiKeyMaxAgeDays: Number(t.api_key_max_age_days),
  };
}

function common(db: Database, row: Record<string, Row>) {
  const { role: r, user: u } = row;
  const tenant = tenantOf(row.tenant);
  const role: RoleView = {
    id: String(r.id),
    name: String(r.name),
    description: String(r.description),
    permissions: r.permissions as string[],
    builtIn: text(r.built_in),
    createdAt: time(r.created_at)!,
    updatedAt: time(r.updated_at)!,
  };
  const user: UserView = {
    id: String(u.id),
    email: String(u.email),
    displayName: String(u.display_name),
    disabledAt: time(u.disabled_at),
    createdAt: time(u.created_at)!,
    passwordChangedAt: time(u.password_changed_at)!,
    totpEnabledAt: time(u.totp_enabled_at),
    totpLastStep: u.totp_last_step === null ? null : Number(u.totp_last_step),
    role,
  };
  return { em: db.forTenant(tenant.id), tenant, user };
}

const text = (value: unknown): string | null => (value === null || value === undefined ? null : String(value));
const time = (value: unknown): Date | null => (value === null || value === undefined ? null : new Date(String(value)));
