import type { TestVigil } from './vigil.ts';
import type { AuditAction } from '../../server/src/audit/actions.ts';
import { inTenantTransaction } from '../../server/src/unit-of-work.ts';

/**
 * A marker only tests write: the catalogue (server/src/audit/actions.ts) types every action the server
 * journals, and tests need events of their own that no server code writes.
 */
export function testAction(name: `test.${string}`): AuditAction {
  return name as AuditAction;
}

/** Appends events through the real write path (journal in a transaction, published after commit). */
export async function writeEvents(vigil: TestVigil | { services: TestVigil['services'] }, tenantId: string, count: number, marker: `test.${string}` = 'test.marker') {
  const action = testAction(marker);
  const origin = { actorType: 'system' as const, actorId: null, sessionId: null, ip: null, userAgent: null };
  for (let i = 0; i < count; i++) {
    await inTenantTransaction(vigil.services, { tenantId, origin, viewer: null }, ({ journal }) => journal.record({ action, details: { i } }));
  }
}
