import { fetchViewer } from './auth.ts';
import { watchDeadline } from './deadline.ts';
import { endSession, session } from './session.svelte.ts';

/**
 * Notices a session that ran out while the dashboard sat open: once its absolute end or the tenant's
 * idle timeout has passed (computed locally, no request), one viewer check decides. Returns the stop.
 */
export function watchSessionExpiry(): () => void {
  return watchDeadline(
    () => {
      const viewer = session.viewer;
      if (!viewer?.session) return null;
      return Math.min(Date.parse(viewer.session.expiresAt), session.lastActivityAt + viewer.tenant.sessionPolicy.idleTimeoutSeconds * 1000);
    },
    async () => {
      const still = await fetchViewer().catch(() => undefined);
      if (still === null) endSession('Your session expired. Sign in again to continue.');
    },
  );
}
