import SchemaBuilder from '@pothos/core';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { DateTimeResolver, JSONObjectResolver, SafeIntResolver } from 'graphql-scalars';
import type { Permission } from './access/permissions.ts';
import { STEP_UP_MAX_AGE_SECONDS, type Viewer, hasFreshProof, hasPermission } from './access/viewer.ts';
import type { Clock } from './clock.ts';
import type { Context } from './context.ts';
import { ErrorCode, clientError, stepUpRequired } from './errors.ts';
import { missingScopes, onlyFreshProofFailed } from './scope-failures.ts';
import { wellFormedInputPlugin } from './well-formed-input.ts';

export interface AuthScopes {
  /** Anyone, signed in or not: used only by the fields on the public list. */
  public: boolean;
  /** A session or an API key. */
  authenticated: boolean;
  /** A browser or app session; API keys never pass (they cannot manage credentials). */
  session: boolean;
  permission: Permission;
  /** Any one of these permissions. */
  anyPermission: readonly Permission[];
  /** A session whose user proved who they are within the last minutes (use `sensitive(…)`, not this). */
  freshProof: boolean;
}

export const builder = new SchemaBuilder<{
  Context: Context;
  AuthScopes: AuthScopes;
  DefaultFieldNullability: false;
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    JSONObject: { Input: Record<string, unknown>; Output: Record<string, unknown> };
    SafeInt: { Input: number; Output: number };
  };
}>({
  defaultFieldNullability: false,
  // Scope-auth first: a caller who may not call a field learns nothing about its input.
  plugins: [ScopeAuthPlugin, wellFormedInputPlugin],
  scopeAuth: {
    authorizeOnSubscribe: true,
    // Loaders, not values: signIn sets the viewer mid-request and the payload's fields must see it.
    authScopes: (ctx) => scopeLoaders(() => ctx.viewer, ctx.services.clock),
    unauthorizedError: (_parent, ctx, info, result) => {
      if (!ctx.viewer) return clientError(ErrorCode.UNAUTHENTICATED);
      if (ctx.viewer.kind === 'session' && onlyFreshProofFailed(result.failure)) return stepUpRequired(STEP_UP_MAX_AGE_SECONDS);
      ctx.denials.push({ field: `${info.parentType.name}.${info.fieldName}`, missing: missingScopes(result.failure) });
      return clientError(ErrorCode.FORBIDDEN);
    },
  },
});

/** What each scope means for a caller (read when a scope is checked): the one definition of the scopes. */
function scopeLoaders(viewer: () => Viewer | null, clock: Clock) {
  return {
    public: true,
    authenticated: () => viewer() !== null,
    session: () => viewer()?.kind === 'session',
    permission: (permission: Permission) => hasPermission(viewer(), permission),
    anyPermission: (permissions: readonly Permission[]) => permissions.some((permission) => hasPermission(viewer(), permission)),
    freshProof: () => hasFreshProof(viewer(), clock.now()),
  };
}

type ScopeMap = Partial<AuthScopes> & { $all?: ScopeMap; $any?: ScopeMap };

/**
 * The scopes of a sensitive field (ASVS 4.3.3 step-up): the field's own, then a fresh proof of the
 * user. A caller who lacks the rights is refused FORBIDDEN; one who has them but proved who they are too
 * long ago gets STEP_UP_REQUIRED before the resolver runs, so the same request, sent again after stepUp,
 * does the work once.
 */
export function sensitive(scopes: ScopeMap): ScopeMap {
  return { $all: { ...scopes, session: true, freshProof: true } };
}


/**
 * Whether a caller passes a field's scopes (any one of them, as scope-auth reads them), for the few
 * routes served beside GraphQL (an export's download) that must obey the same rule as their field.
 */
export function passesScopes(viewer: Viewer | null, clock: Clock, scopes: Partial<AuthScopes>): boolean {
  const loaders = scopeLoaders(() => viewer, clock);
  return Object.entries(scopes).some(([scope, value]) => {
    const loader = loaders[scope as keyof AuthScopes];
    return typeof loader === 'function' ? (loader as (value: unknown) => boolean)(value) : loader === true && value === true;
  });
}

builder.addScalarType('DateTime', DateTimeResolver);
builder.addScalarType('JSONObject', JSONObjectResolver);
builder.addScalarType('SafeInt', SafeIntResolver);
builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});

/**
 * A field whose value depends on who asks, not only on their rights (their own session, their own
 * account): put `extensions: VIEWER_DEPENDENT` on it, and live events selecting it are rendered per user
 * instead of shared between users with the same permissions (test/server/shared-rendering.test.ts).
 */
export const VIEWER_DEPENDENT = { viewerDependent: true } as const;

export function isViewerDependent(extensions: Readonly<Record<string, unknown>> | null | undefined): boolean {
  return extensions?.viewerDependent === true;
}

/** GraphQL enums are UPPER_CASE; the values behind them stay what the database stores. */
export function enumOf<const T extends readonly string[]>(name: string, values: T, description?: string) {
  return builder.enumType(name, { description, values: upperCaseValues(values) });
}

/** An enum's values as both schemas (the tenants', the operators') spell them. */
export function upperCaseValues<const T extends readonly string[]>(values: T) {
  return Object.fromEntries(values.map((value) => [value.toUpperCase(), { value }])) as { [K in T[number] as Uppercase<K>]: { value: K } };
}
