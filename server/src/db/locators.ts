import { LRUCache } from 'lru-cache';
import type { Database } from './database.ts';

type LocatorFunction =
  | 'vigil_tenant_by_slug'
  | 'vigil_tenant_of_session'
  | 'vigil_tenant_of_sign_in_challenge'
  | 'vigil_tenant_of_invitation'
  | 'vigil_tenant_of_password_reset'
  | 'vigil_tenant_of_api_key';

/**
 * Finds the tenant a credential belongs to before any tenant is set, through the SECURITY DEFINER
 * locator functions of the security migration. An id's tenant never changes, so answers are cached.
 */
export class Locators {
  readonly #cache = new LRUCache<string, string>({ max: 50_000 });

  constructor(private readonly db: Database) {}

  tenantBySlug(slug: string): Promise<string | null> {
    return this.#locate('vigil_tenant_by_slug', slug, false);
  }

  tenantOfSession(sessionId: string): Promise<string | null> {
    return this.#locate('vigil_tenant_of_session', sessionId, true);
  }

  tenantOfChallenge(challengeId: string): Promise<string | null> {
    return this.#locate('vigil_tenant_of_sign_in_challenge', challengeId, true);
  }

  tenantOfInvitation(invitationId: string): Promise<string | null> {
    return this.#locate('vigil_tenant_of_invitation', invitationId, true);
  }

  tenantOfPasswordReset(resetId: string): Promise<string | null> {
    return this.#locate('vigil_tenant_of_password_reset', resetId, true);
  }

  tenantOfApiKey(apiKeyId: string): Promise<string | null> {
    return this.#locate('vigil_tenant_of_api_key', apiKeyId, true);
  }

  /** Every customer tenant, for background jobs that visit each in turn under its own tenant setting. */
  async allTenantIds(): Promise<string[]> {
    const rows = await this.db.unscoped().execute<{ id: string }[]>('select vigil_tenant_ids() as id');
    return rows.map((r) => r.id);
  }

  /** Whether any company exists yet: the dashboard's first run. A sign-up makes it true for good (purges leave tombstones). */
  async anyTenant(): Promise<boolean> {
    if (this.#someTenant) return true;
    const rows = await this.db.unscoped().execute<{ some: boolean }[]>('select exists (select 1 from vigil_tenant_ids()) as some');
    this.#someTenant = rows[0]?.some === true;
    return this.#someTenant;
  }

  #someTenant = false;

  async #locate(fn: LocatorFunction, key: string, cacheable: boolean): Promise<string | null> {
    const cacheKey = `${fn}:${key}`;
    const cached = cacheable ? this.#cache.get(cacheKey) : undefined;
    if (cached) return cached;
    const rows = await this.db.unscoped().execute<{ tenant_id: string | null }[]>(`select ${fn}(?) as tenant_id`, [key]);
    const tenantId = rows[0]?.tenant_id ?? null;
    if (tenantId && cacheable) this.#cache.set(cacheKey, tenantId);
    return tenantId;
  }
}
