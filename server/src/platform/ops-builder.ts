import SchemaBuilder from '@pothos/core';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { DateTimeResolver, JSONObjectResolver } from 'graphql-scalars';
import { STEP_UP_MAX_AGE_SECONDS } from '../access/viewer.ts';
import { onlyFreshProofFailed } from '../scope-failures.ts';
import { ErrorCode, clientError, stepUpRequired } from '../errors.ts';
import type { OpsContext } from './ops-context.ts';
import { operatorHasFreshProof } from './operator-viewer.ts';

export interface OpsScopes {
  /** Anyone: the sign-in only. */
  public: boolean;
  /** A signed-in, approved platform operator. */
  operator: boolean;
  /** An operator who proved who they are within the last minutes (use `opsSensitive`, not this). */
  freshProof: boolean;
}

/**
 * The operators' schema, apart from the tenants' (schema.ts): its own builder, so that no type of the
 * tenant realm (a user, a session, a key, a journal entry of a company) can be reached from it.
 */
export const opsBuilder = new SchemaBuilder<{
  Context: OpsContext;
  AuthScopes: OpsScopes;
  DefaultFieldNullability: false;
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    JSONObject: { Input: Record<string, unknown>; Output: Record<string, unknown> };
  };
}>({
  defaultFieldNullability: false,
  plugins: [ScopeAuthPlugin],
  scopeAuth: {
    authScopes: (ctx) => ({
      public: true,
      operator: () => ctx.operator !== null,
      freshProof: () => operatorHasFreshProof(ctx.operator, ctx.services.clock.now()),
    }),
    unauthorizedError: (_parent, ctx, _info, result) => {
      if (!ctx.operator) return clientError(ErrorCode.UNAUTHENTICATED);
      if (onlyFreshProofFailed(result.failure)) return stepUpRequired(STEP_UP_MAX_AGE_SECONDS);
      return clientError(ErrorCode.FORBIDDEN);
    },
  },
});

/** Every approval an operator gives needs a fresh proof (operatorStepUp): the same rule as the tenants' sensitive(). */
export const OPS_SENSITIVE = { $all: { operator: true, freshProof: true } } as const;

opsBuilder.addScalarType('DateTime', DateTimeResolver);
opsBuilder.addScalarType('JSONObject', JSONObjectResolver);
opsBuilder.queryType({});
opsBuilder.mutationType({});
