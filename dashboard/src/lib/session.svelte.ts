import type { Viewer } from './types.ts';

/**
 * Who is signed in, as far as the dashboard knows. The session itself lives in an HttpOnly cookie that
 * no script can read; this holds only what the API said about it, and nothing is ever persisted.
 */
export const session = $state({
  viewer: null as Viewer | null,
  /** The first viewer check has answered: until then the dashboard shows neither sign-in nor screens. */
  checked: false,
  /** Why the user is on the sign-in screen, when it is not their own doing. */
  notice: null as string | null,
  /** Last time an API request succeeded, for noticing an idle timeout (ms since epoch). */
  lastActivityAt: Date.now(),
});

export function startSession(viewer: Viewer): void {
  session.viewer = viewer;
  session.notice = null;
  session.checked = true;
  session.lastActivityAt = Date.now();
}

/** Back to the sign-in screen with a message; a no-op when nobody was signed in. */
export function endSession(notice: string | null): void {
  session.checked = true;
  if (!session.viewer) return;
  session.viewer = null;
  session.notice = notice;
}

/** Whether the viewer holds the permission (any of them, for a list). */
export function can(permission: string | readonly string[]): boolean {
  const wanted = typeof permission === 'string' ? [permission] : permission;
  return wanted.some((p) => session.viewer?.permissions.includes(p) ?? false);
}

export const SESSION_ENDED = 'Your session has ended: it expired or was ended from another place. Sign in again to continue.';
