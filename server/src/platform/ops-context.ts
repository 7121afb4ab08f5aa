import type { OperatorCookies, RequestMeta } from '../context.ts';
import type { Services } from '../services.ts';
import type { OperatorViewer } from './operator-viewer.ts';

/** A request of /ops/graphql: an operator (or nobody yet), never a tenant's viewer or EntityManager. */
export interface OpsContext {
  services: Services;
  meta: RequestMeta;
  operator: OperatorViewer | null;
  cookies: OperatorCookies | null;
}
