import { post } from './graphql.ts';

/** Long enough, and not on any common-password list. */
export const PASSWORD = 'correct horse battery staple';

export interface Account {
  tenantSlug: string;
  email: string;
  password: string;
}

const SIGN_UP = `mutation($i: SignUpInput!) { signUp(input: $i) { token } }`;
export const SIGN_IN_MUTATION = `mutation($i: SignInInput!) { signIn(input: $i) { token } }`;

/** A new company with its owner, through the public API; returns the owner's account. */
export async function signUp(baseUrl: string, slug: string): Promise<Account> {
  const account = { tenantSlug: slug, email: `owner@${slug}.example`, password: PASSWORD };
  await post(baseUrl, SIGN_UP, {
    i: { tenantName: `Bench ${slug}`, tenantSlug: slug, email: account.email, password: PASSWORD, displayName: 'Bench Owner' },
  });
  return account;
}

/** A fresh session token: each measured phase gets its own, far from the rotation deadline. */
export async function signIn(baseUrl: string, account: Account): Promise<string> {
  const data = await post<{ signIn: { token: string } }>(baseUrl, SIGN_IN_MUTATION, { i: account });
  return data.signIn.token;
}

/** Separate companies, each with its owner: the sign-in benchmarks give every connection its own account. */
export async function signUpMany(baseUrl: string, prefix: string, count: number): Promise<Account[]> {
  const accounts: Account[] = [];
  // One by one: sign-up hashes a password too, and the server's hashing queue is what we measure later.
  for (let i = 0; i < count; i++) accounts.push(await signUp(baseUrl, `${prefix}-${i}`));
  return accounts;
}
