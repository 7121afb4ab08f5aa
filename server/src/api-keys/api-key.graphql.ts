import { wrap } from '@mikro-orm/core';
import { builder, sensitive } from '../builder.ts';
import { tenantEmOf, viewerOf } from '../context.ts';
import { asViewer } from '../unit-of-work.ts';
import { UserRef } from '../users/user.graphql.ts';
import type { ApiKey } from './api-key.entity.ts';
import { createApiKey, isUsable, listApiKeys, revealRotatedApiKey, revokeManagedKey, rotateManagedKey } from './api-keys.ts';

const MANAGE_KEYS = ['api_keys.manage_own', 'api_keys.manage_all'] as const;

const ApiKeyStatus = builder.enumType('ApiKeyStatus', { values: ['ACTIVE', 'GRACE', 'ROTATED', 'REVOKED', 'EXPIRED'] as const });

export const ApiKeyRef = builder.objectRef<ApiKey>('ApiKey').implement({
  description: 'An API key. Its secret is never shown again after creation or reveal.',
  authScopes: { authenticated: true },
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    prefix: t.exposeString('prefix'),
    permissions: t.stringList({ resolve: (k) => k.permissions }),
    owner: t.field({
      type: UserRef,
      resolve: async (k) => {
        if (!wrap(k.user).isInitialized()) await wrap(k.user).init();
        return k.user;
      },
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', nullable: true }),
    lastUsedAt: t.expose('lastUsedAt', { type: 'DateTime', nullable: true }),
    lastUsedIp: t.exposeString('lastUsedIp', { nullable: true }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
    rotatedFromId: t.exposeID('rotatedFromId', { nullable: true }),
    rotatedToId: t.exposeID('rotatedToId', { nullable: true }),
    validUntil: t.expose('validUntil', { type: 'DateTime', nullable: true, description: 'End of the grace window after a rotation.' }),
    autoRotated: t.exposeBoolean('autoRotated'),
    awaitingReveal: t.boolean({ description: 'Rotated automatically: its owner can reveal the new secret once.', resolve: (k) => k.pendingSecretEnc !== null }),
    status: t.field({
      type: ApiKeyStatus,
      resolve: (k, _args, ctx) => {
        const now = ctx.services.clock.now();
        if (k.revokedAt) return 'REVOKED';
        if (k.expiresAt && now >= k.expiresAt) return 'EXPIRED';
        if (k.rotatedToId) return isUsable(k, now) ? 'GRACE' : 'ROTATED';
        return 'ACTIVE';
      },
    }),
  }),
});

const ApiKeySecretRef = builder.objectRef<{ key: ApiKey; secret: string }>('ApiKeyWithSecret').implement({
  description: 'A key with its secret, shown this once: store it now.',
  authScopes: { authenticated: true },
  fields: (t) => ({
    key: t.field({ type: ApiKeyRef, resolve: (p) => p.key }),
    secret: t.exposeString('secret', { description: '`vgl_<keyId>_<secret>`: send it as `Authorization: Bearer` or `X-Api-Key`, never in a URL.' }),
  }),
});

const CreateApiKeyInput = builder.inputType('CreateApiKeyInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    permissions: t.stringList({ required: true, description: 'A subset of your own permissions.' }),
    expiresInDays: t.int({ description: 'Optional; keys are rotated automatically after the company maximum age anyway.' }),
  }),
});

builder.queryField('apiKeys', (t) =>
  t.field({
    type: [ApiKeyRef],
    description: 'Your API keys; with `all` and api_keys.manage_all, every key of the company.',
    authScopes: { anyPermission: MANAGE_KEYS },
    args: { all: t.arg.boolean({ defaultValue: false }) },
    resolve: (_root, args, ctx) => listApiKeys(tenantEmOf(ctx), viewerOf(ctx), args.all ?? false),
  }),
);

// Key management needs a signed-in person (the rules check it too): an API key cannot create, rotate or reveal keys.
builder.mutationFields((t) => ({
  createApiKey: t.field({
    type: ApiKeySecretRef,
    description: 'Needs a fresh proof (stepUp).',
    authScopes: sensitive({ permission: 'api_keys.manage_own' }),
    args: { input: t.arg({ type: CreateApiKeyInput, required: true }) },
    resolve: (_root, { input }, ctx) => asViewer(ctx, createApiKey, input),
  }),
  rotateApiKey: t.field({
    type: ApiKeySecretRef,
    description: 'A successor with a new secret; the old one keeps working for graceSeconds (default 0, at most 86400).',
    authScopes: { $all: { session: true, anyPermission: MANAGE_KEYS } },
    args: { id: t.arg.id({ required: true }), graceSeconds: t.arg.int({ defaultValue: 0 }) },
    resolve: (_root, args, ctx) => asViewer(ctx, rotateManagedKey, { id: String(args.id), graceSeconds: args.graceSeconds ?? 0 }),
  }),
  revokeApiKey: t.field({
    type: ApiKeyRef,
    description: 'Stops the key at once.',
    authScopes: { anyPermission: MANAGE_KEYS },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => asViewer(ctx, revokeManagedKey, String(args.id)),
  }),
  revealRotatedApiKey: t.field({
    type: ApiKeySecretRef,
    description: 'The new secret of one of your keys that Vigil rotated: shown exactly once.',
    authScopes: { session: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => asViewer(ctx, revealRotatedApiKey, String(args.id)),
  }),
}));
