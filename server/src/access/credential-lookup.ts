import type { EntityManager } from '@mikro-orm/postgresql';
import DataLoader from 'dataloader';
import type { Database, Orm } from '../db/database.ts';
import { jsonOf, rowReader } from '../db/rows.ts';
import { API_KEY_VIEW, type ApiKeyView, ROLE_VIEW, type RoleView, SESSION_VIEW, type SessionView, TENANT_VIEW, type TenantView, USER_VIEW, type UserView } from './viewer.ts';

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
  readonly #read: ReturnType<typeof readersOf>;

  constructor(private readonly db: Database) {
    this.#sessions = batchOf(db, 'vigil_session_auth', 'session');
    this.#apiKeys = batchOf(db, 'vigil_api_key_auth', 'apiKey');
    this.#read = readersOf(db.orm);
  }

  async session(sessionId: string): Promise<SessionSnapshot | null> {
    const row = await this.#sessions.load(sessionId);
    return row && { ...this.#common(row), session: this.#read.session(row.session) };
  }

  async apiKey(apiKeyId: string): Promise<ApiKeySnapshot | null> {
    const row = await this.#apiKeys.load(apiKeyId);
    return row && { ...this.#common(row), apiKey: this.#read.apiKey(row.apiKey) };
  }

  /** The tenant of a company address and its user with an email, with the password hash, or null. */
  async signInAccount(slug: string, email: string): Promise<SignInAccount | null> {
    const [result] = await this.db.prepared<{ row: unknown }>('vigil_sign_in_account', 'select vigil_sign_in_account($1, $2) as row', [slug, email]);
    return this.readSignInAccount(result?.row);
  }

  /** The result of vigil_sign_in_account, as the driver returns it. */
  readSignInAccount(value: unknown): SignInAccount | null {
    const row = jsonOf<Snapshot | null | undefined>(value);
    if (!row) return null;
    if (!row.user) return { tenant: this.#read.tenant(row.tenant), user: null };
    const { tenant, user } = this.#common(row);
    // The only read that carries the hash, named here rather than in the user's reader.
    return { tenant, user: { ...user, passwordHash: String(row.user.password_hash) } };
  }

  #common(row: Snapshot) {
    const tenant = this.#read.tenant(row.tenant);
    const user: UserView = Object.assign(this.#read.user(row.user), { role: this.#read.role(row.role) });
    return { em: this.db.forTenant(tenant.id), tenant, user };
  }
}

export interface SignInAccount {
  tenant: TenantView;
  /** Null when no user has this email in the tenant. */
  user: (UserView & { passwordHash: string }) | null;
}

/** Entity names, not classes: the readers need only the metadata, and access/ stays free of the areas' code. */
function readersOf(orm: Orm) {
  return {
    tenant: rowReader<TenantView>(orm, 'Tenant', TENANT_VIEW),
    role: rowReader<RoleView>(orm, 'Role', ROLE_VIEW),
    user: rowReader<Omit<UserView, 'role'>>(orm, 'User', USER_VIEW),
    session: rowReader<SessionView>(orm, 'Session', SESSION_VIEW),
    apiKey: rowReader<ApiKeyView>(orm, 'ApiKey', API_KEY_VIEW),
  };
}

function batchOf(db: Database, fn: 'vigil_session_auth' | 'vigil_api_key_auth', key: 'session' | 'apiKey') {
  return new DataLoader<string, Snapshot | null>(
    async (ids) => {
      const rows = await db.prepared<{ row: unknown }>(fn, `select row from ${fn}($1::uuid[]) as row`, [ids]);
      const byId = new Map<string, Snapshot>();
      for (const { row } of rows) {
        const snapshot = jsonOf<Snapshot>(row);
        byId.set(String(snapshot[key].id), snapshot);
      }
      return ids.map((id) => byId.get(id) ?? null);
    },
    // setImmediate: every request whose bytes arrived in this turn of the event loop joins the batch.
    { cache: false, maxBatchSize: 200, batchScheduleFn: (dispatch) => setImmediate(dispatch) },
  );
}
