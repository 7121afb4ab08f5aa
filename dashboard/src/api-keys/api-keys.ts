import { gql } from '../lib/api.ts';
import type { ApiKey } from '../lib/types.ts';

export const KEY_FIELDS = `id name prefix status permissions createdAt expiresAt lastUsedAt lastUsedIp validUntil awaitingReveal autoRotated
  owner { id email displayName }`;

/** A key with its secret, which the API returns exactly once. */
export interface KeyWithSecret {
  key: Pick<ApiKey, 'id' | 'name'>;
  secret: string;
}

/**
 * What the secret-bearing mutations select: the list is reloaded afterwards anyway, and the fewer
 * fields, the fewer ways for the answer carrying a one-time secret to fail (selecting `key.owner` on
 * revealRotatedApiKey once failed on the server after the secret had been claimed).
 */
const WITH_SECRET = 'secret key { id name }';

export async function listKeys(all: boolean): Promise<ApiKey[]> {
  return (await gql<{ apiKeys: ApiKey[] }>(`query ApiKeys($all: Boolean) { apiKeys(all: $all) { ${KEY_FIELDS} } }`, { all })).apiKeys;
}

export async function createKey(input: { name: string; permissions: string[]; expiresInDays?: number }): Promise<KeyWithSecret> {
  const query = `mutation CreateKey($input: CreateApiKeyInput!) { createApiKey(input: $input) { ${WITH_SECRET} } }`;
  return (await gql<{ createApiKey: KeyWithSecret }>(query, { input })).createApiKey;
}

export async function rotateKey(id: string, graceSeconds: number): Promise<KeyWithSecret> {
  const query = `mutation RotateKey($id: ID!, $grace: Int) { rotateApiKey(id: $id, graceSeconds: $grace) { ${WITH_SECRET} } }`;
  return (await gql<{ rotateApiKey: KeyWithSecret }>(query, { id, grace: graceSeconds })).rotateApiKey;
}

export async function revealKey(id: string): Promise<KeyWithSecret> {
  const query = `mutation RevealKey($id: ID!) { revealRotatedApiKey(id: $id) { ${WITH_SECRET} } }`;
  return (await gql<{ revealRotatedApiKey: KeyWithSecret }>(query, { id })).revealRotatedApiKey;
}

export async function revokeKey(id: string): Promise<void> {
  await gql(`mutation RevokeKey($id: ID!) { revokeApiKey(id: $id) { id } }`, { id });
}
