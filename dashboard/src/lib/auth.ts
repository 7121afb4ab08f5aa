import { gql } from './api.ts';
import { endSession, startSession } from './session.svelte.ts';
import type { Viewer } from './types.ts';

const VIEWER = `query Viewer { viewer {
  permissions isOwner
  user { id email displayName totpEnabled role { name } }
  tenant { id slug name sessionPolicy { idleTimeoutSeconds } }
  session { id expiresAt }
} }`;

/** Asks who we are; the cookie decides. Null when the session is gone or there never was one. */
export async function fetchViewer(): Promise<Viewer | null> {
  const data = await gql<{ viewer: Viewer | null }>(VIEWER);
  return data.viewer?.session ? data.viewer : null;
}

export interface SignInInput {
  tenantSlug: string;
  email: string;
  password: string;
}

/**
 * First step of signing in. With confirmation codes on, gql throws TOTP_REQUIRED carrying
 * `extensions.challenge`; the caller then finishes with completeSignIn. The token in the answer is
 * never read: the server has set the HttpOnly cookie.
 */
export async function signIn(input: SignInInput): Promise<void> {
  await gql(`mutation SignIn($input: SignInInput!) { signIn(input: $input) { session { id } } }`, { input });
  await afterSignIn();
}

export async function completeSignIn(input: { challenge: string; code?: string; recoveryCode?: string }): Promise<void> {
  await gql(`mutation CompleteSignIn($input: CompleteSignInInput!) { completeSignIn(input: $input) { session { id } } }`, { input });
  await afterSignIn();
}

/** After a lockdown: the new password, set with the token the refused sign-in carried; it signs in (or asks for the code). */
export async function completePasswordReset(input: { token: string; newPassword: string }): Promise<void> {
  await gql(`mutation CompleteReset($input: CompletePasswordResetInput!) { completePasswordReset(input: $input) { session { id } } }`, { input });
  await afterSignIn();
}

async function afterSignIn(): Promise<void> {
  const viewer = await fetchViewer();
  if (viewer) startSession(viewer);
}

export async function signOut(): Promise<void> {
  try {
    await gql(`mutation SignOut { signOut }`);
  } finally {
    endSession('You have signed out.');
  }
}
