import type { EntityManager } from '@mikro-orm/postgresql';
import { ConfigError } from '../config-error.ts';
import { APP_ROLE, LOCATOR_ROLE, OPS_ROLE } from './tenancy.ts';

/**
 * Vigil's isolation rests on roles it does not fully control on a managed server: the owner that runs
 * migrations, the application role row-level security applies to, and the NOLOGIN role that owns the
 * locator functions. Each check says what is wrong and the statement that fixes it, and Vigil refuses
 * to start rather than run half-working (a blinded locator answers every sign-in INVALID_CREDENTIALS).
 */

/** Before migrations: the owner can create what they need. */
export async function auditOwner(em: EntityManager): Promise<void> {
  const [owner] = await em.execute<Array<{ name: string; super: boolean; createrole: boolean; missing: string[] }>>(
    `select current_user as name, r.rolsuper as super, r.rolcreaterole as createrole,
       array(select n from unnest(array[?, ?, ?]) n where not exists (select 1 from pg_roles where rolname = n)) as missing
     from pg_roles r where r.rolname = current_user`,
    [APP_ROLE, LOCATOR_ROLE, OPS_ROLE],
  );
  if ([APP_ROLE, LOCATOR_ROLE, OPS_ROLE].includes(owner.name)) {
    refuse(`DATABASE_URL logs in as ${owner.name}, one of Vigil's own roles; it must name the owner that runs the migrations (a CREATEDB CREATEROLE role is enough)`);
  }
  if (owner.missing.length && !owner.super && !owner.createrole) {
    refuse(`DATABASE_URL's role ${owner.name} cannot create the role(s) ${owner.missing.join(', ')}; ALTER ROLE ${owner.name} CREATEROLE, or create them first`);
  }
}

interface AppRoleFacts {
  name: string;
  super: boolean;
  bypassrls: boolean;
  owned: string[];
  member_of_locator: boolean;
  member_of_owners: string[];
  locator_login: boolean | null;
  locator_privileged: boolean | null;
  misowned: string[];
}

/** On the application's own connection, after migrations: what it logs in as is what RLS applies to. */
export async function auditApplicationRole(em: EntityManager): Promise<void> {
  const [facts] = await em.execute<AppRoleFacts[]>(
    `select current_user as name, r.rolsuper as super, r.rolbypassrls as bypassrls,
       array(select c.relname::text from pg_class c where c.relowner = r.oid and c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p', 'v', 'm')) as owned,
       coalesce(pg_has_role(current_user, (select oid from pg_roles where rolname = ?), 'MEMBER'), false) as member_of_locator,
       array(select distinct o.rolname::text from pg_class c join pg_roles o on o.oid = c.relowner
               where c.relnamespace = 'public'::regnamespace and c.relkind = 'r' and o.oid <> r.oid and pg_has_role(current_user, o.oid, 'MEMBER')) as member_of_owners,
       (select rolcanlogin from pg_roles where rolname = ?) as locator_login,
       (select rolsuper or rolbypassrls from pg_roles where rolname = ?) as locator_privileged,
       array(select p.proname || ' (owned by ' || pg_get_userbyid(p.proowner) || ')' from pg_proc p
               where p.pronamespace = 'public'::regnamespace and p.prosecdef and pg_get_userbyid(p.proowner) <> ?) as misowned
     from pg_roles r where r.rolname = current_user`,
    [LOCATOR_ROLE, LOCATOR_ROLE, LOCATOR_ROLE, LOCATOR_ROLE],
  );
  const problems = appRoleProblems(facts);
  if (problems.length) refuse(problems.join('; '));
}

function appRoleProblems(f: AppRoleFacts): string[] {
  const problems: string[] = [];
  if (f.name !== APP_ROLE) return [`the application connection logs in as ${f.name}; it must log in as ${APP_ROLE} (fix APP_DATABASE_URL)`];
  if (f.super) problems.push(`${APP_ROLE} is a superuser, which bypasses row-level security; ALTER ROLE ${APP_ROLE} NOSUPERUSER`);
  if (f.bypassrls) problems.push(`${APP_ROLE} has BYPASSRLS; ALTER ROLE ${APP_ROLE} NOBYPASSRLS`);
  if (f.owned.length) problems.push(`${APP_ROLE} owns ${f.owned.join(', ')}, and an owner can switch row-level security off; ALTER TABLE … OWNER TO the migration owner`);
  if (f.member_of_locator) problems.push(`${APP_ROLE} is a member of ${LOCATOR_ROLE}, whose policies see every tenant; REVOKE ${LOCATOR_ROLE} FROM ${APP_ROLE}`);
  for (const owner of f.member_of_owners) problems.push(`${APP_ROLE} is a member of ${owner}, which owns the tables; REVOKE ${owner} FROM ${APP_ROLE}`);
  if (f.locator_login === null) problems.push(`the role ${LOCATOR_ROLE} is missing; run Vigil's migrations as the owner`);
  if (f.locator_login) problems.push(`${LOCATOR_ROLE} can log in, so its view of every tenant is reachable; ALTER ROLE ${LOCATOR_ROLE} NOLOGIN`);
  if (f.locator_privileged) problems.push(`${LOCATOR_ROLE} is a superuser or has BYPASSRLS; ALTER ROLE ${LOCATOR_ROLE} NOSUPERUSER NOBYPASSRLS`);
  if (f.misowned.length) problems.push(`SECURITY DEFINER function(s) ${f.misowned.join(', ')} must belong to ${LOCATOR_ROLE}; ALTER FUNCTION … OWNER TO ${LOCATOR_ROLE}`);
  return problems;
}

function refuse(problem: string): never {
  throw new ConfigError(`Refusing to start: ${problem}.`);
}
