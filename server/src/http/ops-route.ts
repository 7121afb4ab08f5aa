import type { IncomingMessage, ServerResponse } from 'node:http';
import type { OpsContext } from '../platform/ops-context.ts';
import { opsSchema } from '../platform/ops-schema.ts';
import { authenticateOperator } from '../platform/operator-sessions.ts';
import type { Services } from '../services.ts';
import { spendOperation } from './budget.ts';
import { operatorCookies, readCookies } from './cookies.ts';
import { vigilYoga } from './graphql-server.ts';
import { type TrustProxy, requestMeta } from './prepare-request.ts';
import { refuseOverBudget } from './server.ts';

export const OPS_ENDPOINT = '/ops/graphql';

interface OpsServerContext {
  ops: Omit<OpsContext, 'services'>;
}

/**
 * POST /ops/graphql: the platform operators' endpoint, with its own schema, credential and cookie. It
 * reads only an operator's token (`Bearer vop_…` or the vigil-op cookie): a company's session or API key
 * is no credential here, as an operator's is none on /graphql.
 */
export function opsRoute(services: Services, allowedOrigins: readonly string[], options: { trust: TrustProxy; tls: boolean }) {
  const yoga = vigilYoga<OpsServerContext, OpsContext>(services, {
    schema: opsSchema,
    endpoint: OPS_ENDPOINT,
    allowedOrigins,
    context: ({ ops }) => ({ services, ...ops }),
  });
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const meta = requestMeta(req, options.trust, options.tls);
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1] ?? null;
    const token = bearer ?? readCookies(req.headers.cookie, meta.secure).operator;
    const operator = await authenticateOperator(services, token);
    const wait = await spendOperation(services, meta, null);
    if (wait !== null) return refuseOverBudget(res, wait);
    const cookies = operatorCookies({ append: (name, value) => void res.appendHeader(name, value) }, meta, services.clock);
    await yoga(req, res, { ops: { meta, operator, cookies } });
  };
}
