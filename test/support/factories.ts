import { randomBytes } from 'node:crypto';
import type { GraphQLClient } from './client.ts';

export const STRONG_PASSWORD = 'correct horse battery staple';

export const AUTH_FIELDS = 'token user { id email displayName } tenant { id slug name } session { id }';

export function uniqueSlug(prefix = 'acme'): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

export interface SignedUp {
  token: string;
  userId: string;
  tenantId: string;
  slug: string;
  email: string;
  sessionId: string;
}

/** Signs a new company up through the API; the client keeps the session cookie. */
export async function signUpTenant(client: GraphQLClient, overrides: Partial<Record<string, string>> = {}): Promise<SignedUp> {
  const input = {
    tenantName: 'Acme Corp',
    tenantSlug: uniqueSlug(),
    email: 'owner@acme.test',
    password: STRONG_PASSWORD,
    displayName: 'Olga Owner',
    ...overrides,
  };
  const data = await client.ok<{ signUp: any }>(`mutation($input: SignUpInput!) { signUp(input: $input) { ${AUTH_FIELDS} } }`, { input });
  const p = data.signUp;
  return { token: p.token, userId: p.user.id, tenantId: p.tenant.id, slug: input.tenantSlug, email: input.email, sessionId: p.session.id };
}

export async function signIn(client: GraphQLClient, input: { tenantSlug: string; email: string; password?: string }) {
  return client.request<{ signIn: any }>(`mutation($input: SignInInput!) { signIn(input: $input) { ${AUTH_FIELDS} } }`, {
    input: { password: STRONG_PASSWORD, ...input },
  });
}
