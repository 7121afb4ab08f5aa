const LOCATOR_ROLE = 'vigil_locator';

/**
 * The statements that hand SECURITY DEFINER functions to vigil_locator. A non-superuser owner (a managed
 * server's) must be a member of the new owner and the new owner must be able to create in the schema:
 * both are granted for the handover only, then taken back.
 */
export function handToLocator(functions: readonly string[]): string[] {
  return [
    `grant create on schema public to ${LOCATOR_ROLE};`,
    ...asLocatorMember(functions.map((fn) => `alter function ${fn} owner to ${LOCATOR_ROLE};`)),
    `revoke create on schema public from ${LOCATOR_ROLE};`,
  ];
}

/**
 * Statements a non-superuser owner may run only as a member of vigil_locator (replacing a function the
 * role owns): the membership is granted for them and taken back at once.
 */
export function asLocatorMember(statements: readonly string[]): string[] {
  const asNonSuperuser = (statement: string) => `do $$ begin
      if not (select rolsuper from pg_roles where rolname = current_user) then
        execute format('${statement}', current_user);
      end if;
    end $$;`;
  return [asNonSuperuser(`grant ${LOCATOR_ROLE} to %I`), ...statements, asNonSuperuser(`revoke ${LOCATOR_ROLE} from %I`)];
}
