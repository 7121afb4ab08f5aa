import { gql } from '../lib/api.ts';
import type { ApiKey } from '../lib/types.ts';

export const KEY_FIELDS = `id name prefix status permissions createdAt expiresAt lastUsedAt lastUsedIp validUntil awaitingReveal autoRotated
  owner { id email displayName }`;

/** A key with its secret, which the API returns exactly once. */
export interface KeyWithSecret {
  key: ApiKey;
  secret: string;
}

export async function listKeys(all: boolean): Promise<ApiKey[]> {
  return (await gql<{ apiKeys: ApiKey[] }>(`query ApiKeys($all: Boolean) { apiKeys(all: $all) { ${KEY_FIELDS} } }`, { all })).apiKeys;
}

export async function createKey(input: { name: string; permissions: string[]; expiresInDays?: number }): Promise<KeyWithSecret> {
  const query = `mutation CreateKey($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret key { ${KEY_FIELDS} } } }`;
  return (await gql<{ createApiKey: KeyWithSecret }>(query, { input })).createApiKey;
}

export async function rotateKey(id: string, graceSeconds: number): Promise<KeyWithSecret> {
  const query = `mutation RotateKey($id: ID!, $grace: Int) { rotateApiKey(id: $id, graceSeconds: $grace) { secret key { ${KEY_FIELDS} } } }`;
  return (await gql<{ rotateApiKey: KeyWithSecret }>(query, { id, grace: graceSeconds })).rotateApiKey;
}

export async function revealKey(id: string): Promise<KeyWithSecret> {
  const query = `mutation RevealKey($id: ID!) { revealRotatedApiKey(id: $id) { secret key { ${KEY_FIELDS} } } }`;
  return (await gql<{ revealRotatedApiKey: KeyWithSecret }>(query, { id })).revealRotatedApiKey;
}

export async function revokeKey(id: string): Promise<void> {
  await gql(`mutation RevokeKey($id: ID!) { revokeApiKey(id: $id) { id } }`, { id });
}
