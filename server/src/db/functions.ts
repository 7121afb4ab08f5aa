import type { EntityManager } from '@mikro-orm/postgresql';
import { readFileSync } from 'node:fs';

/**
 * Vigil's SQL functions, each defined in one file of db/functions/ (`create or replace function ...`, as
 * pg_get_functiondef prints it): the current definition, where its name says. A migration that changes one
 * edits its file and loads it again with functionDefinition; test/server/db-functions.test.ts checks that
 * every function the database has is the one its file says.
 */
export const FUNCTION_NAMES = [
  'vigil_api_key_auth',
  'vigil_append_audit',
  'vigil_append_operator_audit',
  'vigil_apply_retention',
  'vigil_chain_hash',
  'vigil_critical_transition',
  'vigil_due_critical_operations',
  'vigil_notifications_due',
  'vigil_open_session',
  'vigil_ops_critical_operations',
  'vigil_ops_support_grants',
  'vigil_ops_tenant_summary',
  'vigil_platform_journal',
  'vigil_purge_tenant',
  'vigil_recent_access_changes',
  'vigil_refuse_audit_change',
  'vigil_release_sign_in',
  'vigil_reserve_sign_in',
  'vigil_session_auth',
  'vigil_sign_in_account',
  'vigil_support_open',
  'vigil_support_session_auth',
  'vigil_tenant_by_slug',
  'vigil_tenant_ids',
  'vigil_tenant_of_api_key',
  'vigil_tenant_of_invitation',
  'vigil_tenant_of_password_reset',
  'vigil_tenant_of_session',
  'vigil_tenant_of_sign_in_challenge',
  'vigil_webhooks_due',
] as const;

export type FunctionName = (typeof FUNCTION_NAMES)[number];

/** The file's statement (its leading comment lines kept: PostgreSQL ignores them). */
export function functionDefinition(name: FunctionName): string {
  return readFileSync(new URL(`./functions/${name}.sql`, import.meta.url), 'utf8');
}

/** A definition as compared: its comment lines and runs of white space do not count. */
export function normalizedDefinition(sql: string): string {
  return sql
    .split('\n')
    .filter((line) => !line.startsWith('--'))
    .join('\n')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * Whether the database runs exactly the function its file defines, and nothing else by that name. What
 * verifying the journal asks before it trusts vigil_chain_hash: whoever holds the owner's rights could
 * otherwise replace the function with one that agrees with any row.
 */
export async function runsItsFile(em: EntityManager, name: FunctionName): Promise<boolean> {
  const defined = await em.execute<{ definition: string }[]>(
    "select pg_get_functiondef(p.oid) as definition from pg_proc p where p.proname = ? and p.pronamespace = 'public'::regnamespace",
    [name],
  );
  return defined.length === 1 && normalizedDefinition(defined[0].definition) === normalizedDefinition(functionDefinition(name));
}
