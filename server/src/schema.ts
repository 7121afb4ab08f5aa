import { lexicographicSortSchema } from 'graphql';
import { builder } from './builder.ts';
import './access/access.graphql.ts';
import './critical-ops/critical-ops.graphql.ts';
import './incidents/lockdown.graphql.ts';
import './access/role.graphql.ts';
import './access/viewer.graphql.ts';
import './api-keys/api-key.graphql.ts';
import './audit/actions.graphql.ts';
import './audit/audit-subscriptions.graphql.ts';
import './audit/audit-tools.graphql.ts';
import './audit/audit.graphql.ts';
import './mfa/mfa.graphql.ts';
import './sessions/session-management.graphql.ts';
import './sessions/session.graphql.ts';
import './sessions/sign-in-history.graphql.ts';
import './sessions/sign-in.graphql.ts';
import './sessions/step-up.graphql.ts';
import './tenants/sign-up.graphql.ts';
import './tenants/settings.graphql.ts';
import './tenants/tenant.graphql.ts';
import './alerts/alerts.graphql.ts';
import './support/support.graphql.ts';
import './users/employees.graphql.ts';
import './users/password.graphql.ts';
import './users/user.graphql.ts';

/** The whole API: each domain's *.graphql.ts registers its types and fields on the builder. */
export const schema = lexicographicSortSchema(builder.toSchema());
