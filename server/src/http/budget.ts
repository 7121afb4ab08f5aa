import type { BudgetKey } from '../access/fair-use.ts';
import type { Viewer } from '../access/viewer.ts';
import type { RequestMeta } from '../context.ts';
import type { Services } from '../services.ts';

/**
 * Takes one operation from the budgets it counts against: the client address always, and the session or
 * API key when there is one. Null when allowed, else the seconds to wait. One tenant's loop must not slow
 * the others; the sign-in throttle (sessions/sign-in-throttle.ts) guards passwords on top of this.
 */
export function spendOperation(services: Services, meta: RequestMeta, viewer: Viewer | null): Promise<number | null> {
  const keys: BudgetKey[] = [{ kind: 'address', id: meta.ip ?? 'unknown' }];
  if (viewer?.kind === 'session') keys.push({ kind: 'session', id: viewer.session.id });
  if (viewer?.kind === 'api_key') keys.push({ kind: 'apiKey', id: viewer.apiKeyId });
  if (viewer?.kind === 'support') keys.push({ kind: 'session', id: viewer.supportSessionId });
  return services.fairUse.take(keys);
}
