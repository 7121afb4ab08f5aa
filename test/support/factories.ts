import { randomBytes } from 'node:crypto';
import { GraphQLClient } from './client.ts';

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

export const VIEWER_ID = '{ viewer { user { id } session { id } } }';

/** A client that sends the token as a Bearer header and follows rotations (Vigil-Session-Token). */
export function bearerClient(vigil: { client(): GraphQLClient }, token: string): GraphQLClient {
  const client = vigil.client();
  client.bearer = token;
  return client;
}

/** Invites an employee with a built-in role and signs them in through the invitation. */
export async function inviteEmployee(owner: GraphQLClient, roleName: string, email = `${roleName.replace(/\W/g, '').toLowerCase()}-${randomBytes(3).toString('hex')}@acme.test`) {
  const roles = (await owner.ok('{ roles { id name } }')).roles as Array<{ id: string; name: string }>;
  const role = roles.find((r) => r.name === roleName);
  if (!role) throw new Error(`no role ${roleName}`);
  const invited = await owner.ok(`mutation($e: String!, $r: ID!) { inviteUser(email: $e, roleId: $r) { token } }`, { e: email, r: role.id });
  const client = new GraphQLClient(owner.url);
  const accepted = await client.ok(
    `mutation($i: AcceptInvitationInput!) { acceptInvitation(input: $i) { token user { id } session { id } } }`,
    { i: { token: invited.inviteUser.token, password: STRONG_PASSWORD, displayName: roleName } },
  );
  client.bearer = accepted.acceptInvitation.token;
  client.cookies.clear();
  return { client, email, roleId: role.id, userId: accepted.acceptInvitation.user.id as string, sessionId: accepted.acceptInvitation.session.id as string, token: accepted.acceptInvitation.token as string };
}

/** A company signed up by its owner, with an administrator and an employee (each signed in with their own client). */
export async function companyWithStaff(vigil: { client(): GraphQLClient }) {
  const owner = await signUpTenant(vigil.client());
  const client = bearerClient(vigil, owner.token);
  const admin = await inviteEmployee(client, 'Administrator');
  const employee = await inviteEmployee(client, 'Employee');
  return { ...owner, client, admin, employee };
}
