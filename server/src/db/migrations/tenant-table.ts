const APP_ROLE = 'vigil_app';
const LOCATOR_ROLE = 'vigil_locator';

type Privilege = 'select' | 'insert' | 'update' | 'delete';

/**
 * What a new tenant table needs besides what the migration generator writes from its entity's
 * tenantOwned(...) (forced row-level security, the isolation policy, the locators' policy, the composite
 * foreign keys): the application role's privileges, and for a located table the locators' SELECT.
 * The privileges are the table's contract: the journal, for one, is granted no update or delete.
 */
export function tenantTableAccess(table: string, { app, located = false }: { app: readonly Privilege[]; located?: boolean }): string[] {
  return [
    `grant ${app.join(', ')} on "${table}" to ${APP_ROLE};`,
    ...(located ? [`grant select on "${table}" to ${LOCATOR_ROLE};`] : []),
  ];
}
