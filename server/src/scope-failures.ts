import { type AuthFailure, AuthScopeFailureType } from '@pothos/plugin-scope-auth';

const leavesOf = (f: AuthFailure): AuthFailure[] =>
  f.kind === AuthScopeFailureType.AllAuthScopes || f.kind === AuthScopeFailureType.AnyAuthScopes ? f.failures.flatMap(leavesOf) : [f];

/** The permissions a refused caller lacked (what `access.denied` names), or the scopes when none was a permission. */
export function missingScopes(failure: AuthFailure): string[] {
  const missing = leavesOf(failure).flatMap((f) => {
    if (f.kind !== AuthScopeFailureType.AuthScope) return [];
    if (f.scope === 'permission') return [String(f.parameter)];
    if (f.scope === 'anyPermission') return [(f.parameter as string[]).join(' or ')];
    return [f.scope];
  });
  return [...new Set(missing)];
}

/** Every refusal under this failure is the missing fresh proof (the rights themselves were there). */
export function onlyFreshProofFailed(failure: AuthFailure): boolean {
  const all = leavesOf(failure);
  return all.length > 0 && all.every((f) => f.kind === AuthScopeFailureType.AuthScope && f.scope === 'freshProof');
}
