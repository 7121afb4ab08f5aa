import { CRITICAL_POLICY, runDueCriticalOperations } from '../../server/src/critical-ops/critical-ops.ts';
import { type CreatedOperator, createOperator } from '../../server/src/platform/operators.ts';
import { companyWithStaff } from './factories.ts';
import { signedInOperator } from './operator-console.ts';
import { asOwner } from './owner-sql.ts';
import type { TestVigil } from './vigil.ts';

const DELETE = 'mutation($r: String!) { requestCompanyDeletion(reason: $r) { id intentHash } }';
const VERIFY = 'mutation($id: ID!, $h: String!) { verifyCriticalOperation(id: $id, intentHash: $h, method: CALL_BACK, reference: "called +49 30 1234, 10:02") { id } }';
const APPROVE = 'mutation($id: ID!, $h: String!) { approveCriticalOperation(id: $id, intentHash: $h) { id } }';

const operators = new WeakMap<TestVigil, CreatedOperator>();

/**
 * A company with staff whose deletion was requested by its owner, verified and approved by a platform
 * operator, and executed after its cooling-off: its data waits thirty days for the purge.
 */
export async function executedDeletion(vigil: TestVigil) {
  let operator = operators.get(vigil);
  if (!operator) operators.set(vigil, (operator = await createOperator(vigil.services, { email: 'olga@vendor.test', displayName: 'Olga Operator' })));
  const company = await companyWithStaff(vigil);
  const requested = (await company.client.ok(DELETE, { r: 'We are closing the business.' })).requestCompanyDeletion as { id: string; intentHash: string };
  const ops = await signedInOperator(vigil, operator);
  await ops.ok(VERIFY, { id: requested.id, h: requested.intentHash });
  await ops.ok(APPROVE, { id: requested.id, h: requested.intentHash });
  vigil.clock.advance(CRITICAL_POLICY.coolingOffSeconds + 60);
  await runDueCriticalOperations(vigil.services);
  if ((await operationState(vigil, requested.id)) !== 'executed') throw new Error('the deletion did not execute');
  return { ...company, operationId: requested.id };
}

/** Thirty days on: the executor purges every deletion whose time has come. */
export async function purgeDue(vigil: TestVigil): Promise<void> {
  vigil.clock.advance(CRITICAL_POLICY.purgeAfterSeconds + 60);
  await runDueCriticalOperations(vigil.services);
}

export async function operationState(vigil: TestVigil, id: string): Promise<string | undefined> {
  return (await asOwner(vigil, (q) => q<{ state: string }>('select state from critical_operation where id = $1', [id])))[0]?.state;
}

/** Every row of the company in the tables a purge empties, as the owner counts them. */
export async function companyRowCount(vigil: TestVigil, tenantId: string): Promise<number> {
  const [row] = await asOwner(vigil, (q) =>
    q<{ n: string }>(
      `select (select count(*) from app_user where tenant_id = $1) + (select count(*) from audit_event where tenant_id = $1) + (select count(*) from role where tenant_id = $1) + (select count(*) from session where tenant_id = $1) as n`,
      [tenantId],
    ),
  );
  return Number(row.n);
}
