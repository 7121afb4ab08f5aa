import type { EntityManager } from '@mikro-orm/postgresql';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Database, type Orm, openDatabase, tenantEntityManager } from '../../server/src/db/database.ts';
import { TENANT_FILTER } from '../../server/src/db/tenancy.ts';
import { tenantReferences } from '../../server/src/db/tenant-references.ts';
import { Role } from '../../server/src/access/role.entity.ts';
import { AuditEvent } from '../../server/src/audit/audit-event.entity.ts';
import { Session } from '../../server/src/sessions/session.entity.ts';
import { Invitation } from '../../server/src/users/invitation.entity.ts';
import { User } from '../../server/src/users/user.entity.ts';
import { auditStatistics } from '../../server/src/audit/statistics.ts';
import { bearerClient, inviteEmployee, signUpTenant } from '../support/factories.ts';
import { asAppRole, asOwner, withRlsBypassingOrm } from '../support/owner-sql.ts';
import { type TestVigil, startVigil } from '../support/vigil.ts';

/**
 * Each tenant wall proven without the other. tenant-walls.test.ts proves wall 2 (row-level security) with
 * raw SQL, which has no ORM filter; here wall 1 (the ORM's tenant filter) runs on a connection that
 * bypasses row-level security, and every raw SQL path, which has only wall 2, is listed and shown walled.
 */

let vigil: TestVigil;
let a: { tenantId: string; token: string };
let b: { tenantId: string; token: string };

beforeAll(async () => {
  vigil = await startVigil();
  a = await signUpTenant(vigil.client());
  b = await signUpTenant(vigil.client());
  for (const tenant of [a, b]) {
    const owner = bearerClient(vigil, tenant.token);
    const employee = await inviteEmployee(owner, 'Employee');
    await owner.ok('mutation($id: ID!) { resetUserPassword(userId: $id) { token } }', { id: employee.userId });
    const key = (await owner.ok('mutation { createApiKey(input: { name: "k", permissions: [] }) { key { id } } }')).createApiKey.key.id;
    await owner.ok('mutation($id: ID!) { revokeApiKey(id: $id) { id } }', { id: key });
    await owner.ok('mutation { exportAuditEvents(format: CSV) { url } }');
    await owner.ok('mutation { createRole(input: { name: "Auditor", permissions: ["audit.read"] }) { id } }');
  }
});
afterAll(async () => vigil?.stop());

const tenantOf = (row: Record<string, unknown>, entity: string): string => {
  if (entity === 'Tenant') return row.id as string;
  const tenant = row.tenant as string | { id: string };
  return typeof tenant === 'string' ? tenant : tenant.id;
};

/** Every entity the tenant filter guards, by name. */
const filteredEntities = (orm: Orm) => [...orm.getMetadata().getAll().values()].filter((meta) => meta.filters?.[TENANT_FILTER] && !meta.embeddable);

describe('wall 1 alone: the ORM filter, on a connection row-level security does not restrict', () => {
  test('the connection sees both tenants when the filter is off, so what follows is the filter alone', async () => {
    await withRlsBypassingOrm(vigil, async (orm) => {
      const [row] = await orm.em.fork().execute<{ tenants: number }[]>('select count(distinct tenant_id)::int as tenants from app_user');
      expect(row.tenants).toBeGreaterThanOrEqual(2);
    });
  });

  test('every tenant-owned entity, read through the filter, yields only the filtered tenant', async () => {
    await withRlsBypassingOrm(vigil, async (orm) => {
      const entities = filteredEntities(orm);
      expect(entities.length).toBeGreaterThanOrEqual(14);
      const seen: Record<string, { ofA: number; others: number; unfilteredOthers: number }> = {};
      for (const meta of entities) {
        const em = tenantEntityManager(orm, a.tenantId);
        const rows = (await em.find(meta.class, {})) as Record<string, unknown>[];
        const all = (await em.fork().find(meta.class, {}, { filters: false })) as Record<string, unknown>[];
        seen[meta.className] = {
          ofA: rows.filter((row) => tenantOf(row, meta.className) === a.tenantId).length,
          others: rows.filter((row) => tenantOf(row, meta.className) !== a.tenantId).length,
          unfilteredOthers: all.filter((row) => tenantOf(row, meta.className) !== a.tenantId).length,
        };
      }
      for (const [entity, counts] of Object.entries(seen)) expect({ entity, others: counts.others }).toEqual({ entity, others: 0 });
      // The filter had something to hide: every table the set-up fills holds rows of B.
      for (const entity of ['Tenant', 'User', 'Role', 'Session', 'ApiKey', 'Invitation', 'AuditEvent', 'AuditExport', 'KnownDevice', 'AccessChange']) {
        expect({ entity, ofA: seen[entity].ofA > 0, hidden: seen[entity].unfilteredOthers > 0 }).toEqual({ entity, ofA: true, hidden: true });
      }
    });
  });

  test('updates and deletes through the filter touch only the filtered tenant', async () => {
    await withRlsBypassingOrm(vigil, async (orm) => {
      const roleNames = async () => (await orm.em.fork().execute<{ tenant_id: string; description: string }[]>("select tenant_id, description from role where name = 'Auditor'"));
      const em = tenantEntityManager(orm, a.tenantId);
      const updated = await em.nativeUpdate(Role, { name: 'Auditor' }, { description: 'touched by wall-1 test' });
      expect(updated).toBe(1);
      const after = await roleNames();
      expect(after.find((r) => r.tenant_id === a.tenantId)?.description).toBe('touched by wall-1 test');
      expect(after.find((r) => r.tenant_id === b.tenantId)?.description).not.toBe('touched by wall-1 test');
      expect(await tenantEntityManager(orm, b.tenantId).fork().nativeDelete(Invitation, { tenant: a.tenantId })).toBe(0);
    });
  });

  test('an entity manager with no tenant fails closed', async () => {
    await withRlsBypassingOrm(vigil, async (orm) => {
      await expect(orm.em.fork().find(User, {})).rejects.toThrow(/tenant/);
    });
  });
});

/**
 * Every file that sends SQL of its own past the ORM filter, and how row-level security (wall 2) covers it.
 * A new raw statement in a file not listed fails the first test: list it here and show it walled.
 */
const RAW_SQL_PATHS: Record<string, string> = {
  'access/access-signals.ts': 'insert into access_change in the tenant transaction (RLS refuses another tenant: below); reads through the vigil_recent_access_changes locator',
  'access/credential-lookup.ts': 'locators only (SECURITY DEFINER, owned by vigil_locator): managed-postgres.test.ts',
  'audit/journal.ts': 'vigil_append_audit, security invoker, in the tenant transaction (RLS refuses another tenant: below)',
  'audit/verify.ts': 'vigil_chain_hash over the values it is handed: a pure function, no table',
  'audit/statistics.ts': 'selects audit_event with no tenant predicate: RLS alone scopes it (below)',
  'critical-ops/critical-ops.ts': 'the vigil_due_critical_operations locator (SECURITY DEFINER, owned by vigil_locator), ids only',
  'critical-ops/transitions.ts': 'vigil_critical_transition (SECURITY DEFINER): sets the tenant it is given, checks the actor; critical-operations.test.ts',
  'critical-ops/purge.ts': 'counts of the company\'s own tables under its RLS (the receipt), and vigil_purge_tenant (SECURITY DEFINER, keyed to the tenant it is given): critical-operations.test.ts',
  'db/database.ts': 'plumbing: select 1, set role (and set local role vigil_ops), the prepared-statement driver call',
  'db/functions.ts': 'the catalog (pg_proc) for a function definition, no tenant table',
  'db/locators.ts': 'locators only (SECURITY DEFINER, owned by vigil_locator): managed-postgres.test.ts',
  'db/role-audit.ts': 'catalog queries about roles, no tenant table',
  'notifications/notifier.ts': 'the vigil_notifications_due locator (SECURITY DEFINER, owned by vigil_locator), tenant ids only; the cursor row inserted in the company\'s transaction (RLS refuses another tenant\'s)',
  'platform/critical-reviews.ts': 'vigil_ops_critical_operations as vigil_ops (no tenant grant): the operations and company names only',
  'platform/support-desk.ts': 'vigil_ops_support_grants and vigil_support_open as vigil_ops (no tenant grant; SECURITY DEFINER, keyed to the tenant given): support-access.test.ts',
  'support/support-access.ts': 'the vigil_support_session_auth locator (SECURITY DEFINER, owned by vigil_locator): one session with its grant and company',
  'unit-of-work.ts': 'set transaction read only, for support under a grant: no table',
  'platform/ops-reads.ts': 'vigil_platform_journal as vigil_ops, which has no tenant grant: operators.test.ts (42501 on every tenant table)',
  'http/health.ts': 'server facts (version, TLS of the backend), no tenant table',
  'sessions/sign-in-attempt.ts': 'vigil_open_session, security invoker: sets the tenant it is given and writes under RLS',
  'sessions/sign-in-throttle.ts': 'vigil_release_sign_in: sign_in_throttle holds no tenant data',
  'sessions/sign-in.ts': 'vigil_reserve_sign_in and the vigil_sign_in_account locator',
  'tenants/settings.ts': 'update session with no tenant predicate: RLS alone scopes it (below)',
  'backups/status.ts': 'pg_stat_archiver (server statistics), no tenant table',
  'backups/mode.ts': 'show archive_command (a server setting), no tenant table',
  'db/locks.ts': 'pg_advisory_xact_lock on a name: no table',
  'audit/retention.ts': 'vigil_apply_retention (SECURITY DEFINER, keyed to the tenant it is given), in the company\'s transaction',
  'webhooks/deliverer.ts': 'the vigil_webhooks_due locator (SECURITY DEFINER, owned by vigil_locator), tenant ids only',
  'audit/signing-keys.ts': "lock table audit_signing_key (the platform's public keys, no tenant data), on the owner's connection as a database opens",
  'critical-ops/reapply-purges.ts': "the owner's connection as a database opens, never the application's: the company named by a receipt Vigil signed, by tenant id (purge-reapplied.test.ts, managed-postgres.test.ts)",
};

/** Runs statements as the application role in a transaction of the tenant, rolled back. */
const inTransactionOf = <T>(tenantId: string, work: (q: (sql: string, params?: unknown[]) => Promise<any[]>) => Promise<T>) =>
  asAppRole(vigil, async (q) => {
    await q('begin');
    try {
      await q(`select set_config('app.tenant_id', $1, true)`, [tenantId]);
      return await work(q);
    } finally {
      await q('rollback');
    }
  });

const SERVER = join(import.meta.dirname, '../../server/src');
const RAW_SQL = /\.(execute|prepared)\s*[<(]/;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'migrations' ? [] : sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

describe('raw SQL paths: listed, and each walled by row-level security', () => {
  test('the list is every file that sends its own SQL', () => {
    const found = sourceFiles(SERVER).filter((file) => RAW_SQL.test(readFileSync(file, 'utf8'))).map((file) => relative(SERVER, file));
    expect(found.sort()).toEqual(Object.keys(RAW_SQL_PATHS).sort());
  });

  test("statistics: A's overview counts A's journal and none of B's", async () => {
    const ofA = await asOwner(vigil, (q) => q<{ n: number }>('select count(*)::int as n from audit_event where tenant_id = $1', [a.tenantId]));
    const stats = await auditStatistics(vigil.services.db.forTenant(a.tenantId), vigil.clock.now());
    const counted = stats.eventsPerMinute.reduce((sum, bucket) => sum + bucket.count, 0);
    expect(counted).toBe(ofA[0].n);
    const none = await auditStatistics(vigil.services.db.unscoped(), vigil.clock.now());
    expect(none.eventsPerMinute.reduce((sum, bucket) => sum + bucket.count, 0)).toBe(0);
  });

  test("settings: A shortening its absolute timeout leaves B's sessions alone", async () => {
    const expiries = () => asOwner(vigil, (q) => q<{ id: string; expires_at: Date }>('select id, expires_at from session where tenant_id = $1 order by id', [b.tenantId]));
    const before = await expiries();
    expect(before.length).toBeGreaterThan(0);
    await bearerClient(vigil, a.token).ok('mutation { updateSessionPolicy(input: { absoluteTimeoutSeconds: 3600 }) { sessionPolicy { absoluteTimeoutSeconds } } }');
    expect(await expiries()).toEqual(before);
    const ofA = await asOwner(vigil, (q) => q<{ late: number }>("select count(*)::int as late from session where tenant_id = $1 and ended_at is null and expires_at > created_at + interval '1 hour'", [a.tenantId]));
    expect(ofA[0].late).toBe(0);
  });

  test("the journal: appending to B's journal from A's transaction is refused", async () => {
    const refused = await inTransactionOf(a.tenantId, (q) =>
      q(`select * from vigil_append_audit($1, $2::jsonb)`, [
        b.tenantId,
        JSON.stringify([{ prefix: '', suffix: '', event: { id: crypto.randomUUID(), occurredAt: new Date().toISOString(), action: 'tenant.session_policy_updated', outcome: 'success', actorType: 'system', details: {} } }]),
      ]).then(
        () => 'appended',
        (error: Error) => error.message,
      ),
    );
    expect(refused).toMatch(/row-level security/);
  });

  test("access changes: recording one for B from A's transaction is refused", async () => {
    const refused = await inTransactionOf(a.tenantId, (q) =>
      q(`insert into access_change (id, tenant_id, signal) values (gen_random_uuid(), $1, '{}')`, [b.tenantId]).then(
        () => 'recorded',
        (error: Error) => error.message,
      ),
    );
    expect(refused).toMatch(/row-level security/);
  });
});

describe('a one-connection pool never carries a tenant from one use to the next', () => {
  let db: Database;
  let own = false;
  beforeAll(async () => {
    own = Boolean(vigil.database.ownerUrl);
    // The embedded database has a single connection already; on a server, a second pool of exactly one.
    db = own ? await openDatabase({ ...vigil.database.options, poolMax: 1 }) : vigil.services.db;
  });
  afterAll(async () => {
    if (own) await db.close();
  });

  const leftover = async (em: EntityManager) => (await em.execute<{ value: string | null }[]>("select current_setting('app.tenant_id', true) as value"))[0].value;

  test('hundreds of alternations of A and B, with failures among them, never see the other tenant or keep a setting', async () => {
    const wrong: string[] = [];
    for (let i = 0; i < 300; i++) {
      const tenant = i % 2 ? a.tenantId : b.tenantId;
      const em = db.forTenant(tenant);
      if (i % 3 === 0) {
        const users = await em.find(User, {});
        if (!users.length || users.some((user) => user.tenant.id !== tenant)) wrong.push(`find ${i}`);
      } else if (i % 3 === 1) {
        const rows = await em.execute<{ tenant_id: string }[]>('select distinct tenant_id from audit_event');
        if (rows.length !== 1 || rows[0].tenant_id !== tenant) wrong.push(`raw ${i}`);
      } else {
        await em
          .transactional(async (tx) => {
            await tx.find(AuditEvent, {}, { limit: 1 });
            throw new Error('roll back');
          })
          .catch(() => undefined);
      }
      const setting = await leftover(db.unscoped());
      if (setting) wrong.push(`setting ${i}: ${setting}`);
      const prepared = await db.prepared<{ value: string | null }>('walls_leftover', "select current_setting('app.tenant_id', true) as value", []);
      if (prepared[0].value) wrong.push(`prepared ${i}: ${prepared[0].value}`);
    }
    expect(wrong).toEqual([]);
  });

  test('interleaved uses of both tenants queued on the one connection stay apart', async () => {
    const results = await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        const tenant = i % 2 ? a.tenantId : b.tenantId;
        const sessions = await db.forTenant(tenant).find(Session, {});
        return sessions.length > 0 && sessions.every((session) => session.tenant.id === tenant);
      }),
    );
    expect(results.every(Boolean)).toBe(true);
    expect(await leftover(db.unscoped())).toBeFalsy();
  });
});

describe('references between rows carry the tenant', () => {
  test('every reference between tenant-owned rows is a composite foreign key on the tenant', async () => {
    const references = tenantReferences(vigil.services.db.orm.getMetadata().getAll().values());
    expect(references.length).toBeGreaterThanOrEqual(12);
    const keys = await asOwner(vigil, (q) =>
      q<{ table: string; columns: string[]; referenced: string; referenced_columns: string[] }>(
        `select c.conrelid::regclass::text as table, c.confrelid::regclass::text as referenced,
                array(select attname::text from unnest(c.conkey) with ordinality k(n, i) join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.n order by i) as columns,
                array(select attname::text from unnest(c.confkey) with ordinality k(n, i) join pg_attribute a on a.attrelid = c.confrelid and a.attnum = k.n order by i) as referenced_columns
           from pg_constraint c where c.contype = 'f' and c.connamespace = 'public'::regnamespace`,
      ),
    );
    for (const reference of references) {
      const onColumn = keys.filter((key) => key.table === reference.table && key.columns.includes(reference.column));
      expect({ reference, keys: onColumn }).toEqual({
        reference,
        keys: [{ table: reference.table, columns: ['tenant_id', reference.column], referenced: reference.referencedTable, referenced_columns: ['tenant_id', 'id'] }],
      });
    }
  });

  test("a row of A pointed at a row of B is refused by the database, though foreign-key checks ignore row-level security", async () => {
    const references = tenantReferences(vigil.services.db.orm.getMetadata().getAll().values());
    const outcomes: Record<string, string> = {};
    for (const reference of references) {
      const [target] = await asOwner(vigil, (q) => q<{ id: string }>(`select id from "${reference.referencedTable}" where tenant_id = $1 limit 1`, [b.tenantId]));
      const [row] = await asOwner(vigil, (q) => q<{ at: string }>(`select ctid::text as at from "${reference.table}" where tenant_id = $1 limit 1`, [a.tenantId]));
      if (!target || !row) continue;
      outcomes[`${reference.table}.${reference.column}`] = await inTransactionOf(a.tenantId, (q) =>
        q(`update "${reference.table}" set "${reference.column}" = $1 where ctid = $2::tid`, [target.id, row.at]).then(
          () => 'pointed at B',
          (error: Error) => (/foreign key/.test(error.message) ? 'refused' : error.message),
        ),
      );
    }
    expect(Object.keys(outcomes).length).toBeGreaterThanOrEqual(9);
    expect(Object.entries(outcomes).filter(([, outcome]) => outcome !== 'refused')).toEqual([]);
  });
});
