import type { TestVigil } from './vigil.ts';
import { inTenantTransaction } from '../../server/src/unit-of-work.ts';

/** Appends events through the real write path (journal in a transaction, published after commit). */
export async function writeEvents(vigil: TestVigil | { services: TestVigil['services'] }, tenantId: string, count: number, action = 'test.marker') {
  const origin = { actorType: 'system' as const, actorId: null, sessionId: null, ip: null, userAgent: null };
  for (let i = 0; i < count; i++) {
    await inTenantTransaction(vigil.services, tenantId, origin, ({ journal }) => journal.record({ action, details: { i } }));
  }
}
