import { MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';
import type { Orm } from '../../server/src/db/database.ts';
import { sharedOrmOptions } from '../../server/src/db/orm-options.ts';
import { APP_ROLE } from '../../server/src/db/tenancy.ts';
import type { TestVigil } from './vigil.ts';

export type Query = <R = Record<string, any>>(sql: string, params?: unknown[]) => Promise<R[]>;

/**
 * Runs SQL as the database owner, outside the application's role: to inspect what was written, or to
 * play an attacker with owner rights. On the embedded database the one connection steps out of the
 * application role for the duration; on a managed server (an owner that forced RLS blinds), as its superuser.
 */
export async function asOwner<T>(vigil: TestVigil, work: (query: Query) => Promise<T>): Promise<T> {
  const url = vigil.database.superuserUrl ?? vigil.database.ownerUrl;
  if (url) {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return await work(async (sql, params) => (await client.query(sql, params as unknown[])).rows);
    } finally {
      await client.end();
    }
  }
  const connection = vigil.services.db.orm.em.getConnection();
  await connection.execute('reset role');
  try {
    return await work(async (sql, params) => (await connection.execute(...toPositional(sql, params))) as any[]);
  } finally {
    await connection.execute(`set role ${APP_ROLE}`);
  }
}

/** MikroORM's execute takes `?` placeholders in order; tests write `$1` as PostgreSQL does, possibly repeated. */
function toPositional(sql: string, params: unknown[] = []): [string, unknown[]] {
  const ordered: unknown[] = [];
  const text = sql.replace(/\$(\d+)/g, (_, n: string) => {
    ordered.push(params[Number(n) - 1]);
    return '?';
  });
  return [text, ordered];
}

/** True when any row of any table holds the text (tokens must be stored as hashes only). */
export async function databaseContains(vigil: TestVigil, needle: string): Promise<boolean> {
  return asOwner(vigil, async (query) => {
    const tables = await query<{ name: string }>(
      "select tablename as name from pg_tables where schemaname = 'public'",
    );
    for (const { name } of tables) {
      const rows = await query<{ found: boolean }>(`select exists (select 1 from "${name}" t where position($1 in t::text) > 0) as found`, [needle]);
      if (rows[0]?.found) return true;
    }
    return false;
  });
}

/** Audit rows of a tenant as the owner sees them, oldest first. */
export async function auditRows(vigil: TestVigil, tenantId: string) {
  return asOwner(vigil, (query) =>
    query<{ seq: string | number; hash: string; action: string; outcome: string; actor_type: string; actor_id: string | null; target_id: string | null; session_id: string | null; ip: string | null; user_agent: string | null; details: any; occurred_at: Date }>(
      'select * from audit_event where tenant_id = $1 order by seq',
      [tenantId],
    ),
  );
}

/** The ORM as the owner sees the database (catalog views hide other owners' constraints from the app role). */
export async function withOwnerOrm<T>(vigil: TestVigil, work: (orm: Orm) => Promise<T>): Promise<T> {
  return withOrmAt(vigil, vigil.database.ownerUrl, work);
}

/**
 * The ORM on a connection row-level security does not restrict (a superuser's), for proving the ORM's
 * tenant filter alone: the owner on the embedded database; the superuser or the owner on a server.
 */
export async function withRlsBypassingOrm<T>(vigil: TestVigil, work: (orm: Orm) => Promise<T>): Promise<T> {
  return withOrmAt(vigil, vigil.database.superuserUrl ?? vigil.database.ownerUrl, work);
}

/** An ORM of its own at the URL; on the embedded database (no URL) the app's, stepped out of the application role. */
async function withOrmAt<T>(vigil: TestVigil, url: string | null | undefined, work: (orm: Orm) => Promise<T>): Promise<T> {
  if (!url) return asOwner(vigil, () => work(vigil.services.db.orm));
  const orm = await MikroORM.init({ ...sharedOrmOptions, clientUrl: url });
  try {
    return await work(orm);
  } finally {
    await orm.close(true);
  }
}

/**
 * Runs SQL as the application role, the way Vigil connects: a separate login on the real server, the
 * role taken by the one connection on the embedded database. Each call is its own transaction.
 */
export async function asAppRole<T>(vigil: TestVigil, work: (query: Query) => Promise<T>): Promise<T> {
  if (vigil.database.ownerUrl) {
    const url = new URL(vigil.database.ownerUrl);
    url.username = APP_ROLE;
    url.password = '';
    const client = new pg.Client({ connectionString: url.toString() });
    await client.connect();
    try {
      return await work(async (sql, params) => (await client.query(sql, params as unknown[])).rows);
    } finally {
      await client.end();
    }
  }
  const connection = vigil.services.db.orm.em.getConnection();
  return work(async (sql, params) => (await connection.execute(...toPositional(sql, params))) as any[]);
}

/** The attacker has the owner's rights and switches the journal's append-only triggers off around its statement. */
export async function tamperWithJournal(vigil: TestVigil, sql: string, params: unknown[] = []): Promise<void> {
  await asOwner(vigil, async (q) => {
    await q('alter table audit_event disable trigger user');
    try {
      await q(sql, params);
    } finally {
      await q('alter table audit_event enable trigger user');
    }
  });
}
