const LOCATOR_ROLE = 'vigil_locator';

/**
 * The statements that hand SECURITY DEFINER functions to vigil_locator. A non-superuser owner (a managed
 * server's) must be a member of the new owner and the new owner must be able to create in the schema:
 * both are granted for the handover only, then taken back.
 */
export function handToLocator(functions: readonly string[]): string[] {
  const asNonSuperuser = (statement: string) => `do $$ begin
      if not (select rolsuper from pg_roles where rolname = current_user) then
        execute format('${statement}', current_user);
      end if;
    end $$;`;
  return [
    `grant create on schema public to ${LOCATOR_ROLE};`,
    asNonSuperuser(`grant ${LOCATOR_ROLE} to %I`),
    ...functions.map((fn) => `alter function ${fn} owner to ${LOCATOR_ROLE};`),
    asNonSuperuser(`revoke ${LOCATOR_ROLE} from %I`),
    `revoke create on schema public from ${LOCATOR_ROLE};`,
  ];
}
