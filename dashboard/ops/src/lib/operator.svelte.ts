import type { CurrentOperator } from './types.ts';

/** Operators' sessions end after 15 idle minutes (OPERATOR_SESSION_POLICY on the server). */
export const IDLE_MS = 15 * 60 * 1000;

/**
 * Who is signed in to the console, as far as it knows: the session is the HttpOnly vigil-op cookie no
 * script reads, and the companies' dashboard's session (session.svelte.ts) means nothing here.
 */
export const desk = $state({
  operator: null as CurrentOperator | null,
  /** The first `me` has answered. */
  checked: false,
  /** Why the operator is on the sign-in screen, when it is not their own doing. */
  notice: null as string | null,
  lastAnswerAt: Date.now(),
});

/** Signed in (or still): `operator`; signed out or gone: null, with the notice shown on the sign-in screen. */
export function settle(operator: CurrentOperator | null, notice: string | null = null): void {
  if (operator || desk.operator) desk.notice = notice;
  desk.operator = operator;
  desk.checked = true;
}

export const SESSION_ENDED = 'Your session has ended: it expired or was ended elsewhere. Sign in again to continue.';
