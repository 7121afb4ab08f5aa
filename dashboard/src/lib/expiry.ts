import { fetchViewer } from './auth.ts';
import { endSession, session } from './session.svelte.ts';

const CHECK_EVERY_MS = 15_000;

/**
 * Notices a session that ran out while the dashboard sat open: once its absolute end or the tenant's
 * idle timeout has passed (computed locally, no request), one viewer check decides. Returns the stop.
 */
export function watchSessionExpiry(): () => void {
  const timer = setInterval(async () => {
    const viewer = session.viewer;
    if (!viewer?.session) return;
    const absoluteEnd = Date.parse(viewer.session.expiresAt);
    const idleEnd = session.lastActivityAt + viewer.tenant.sessionPolicy.idleTimeoutSeconds * 1000;
    if (Date.now() < Math.min(absoluteEnd, idleEnd)) return;
    const still = await fetchViewer().catch(() => undefined);
    if (still === null) endSession('Your session expired. Sign in again to continue.');
  }, CHECK_EVERY_MS);
  return () => clearInterval(timer);
}
