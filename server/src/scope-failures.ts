import { type AuthFailure, AuthScopeFailureType } from '@pothos/plugin-scope-auth';

/** Every refusal under this failure is the missing fresh proof (the rights themselves were there). */
export function onlyFreshProofFailed(failure: AuthFailure): boolean {
  const leaves = (f: AuthFailure): AuthFailure[] =>
    f.kind === AuthScopeFailureType.AllAuthScopes || f.kind === AuthScopeFailureType.AnyAuthScopes ? f.failures.flatMap(leaves) : [f];
  const all = leaves(failure);
  return all.length > 0 && all.every((f) => f.kind === AuthScopeFailureType.AuthScope && f.scope === 'freshProof');
}
