import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { PERMISSIONS } from '../../server/src/access/permissions.ts';
import { AUDIT_ACTIONS, type AuditAction, actionsWhere, attentionGroups } from '../../server/src/audit/actions.ts';
import type { AuditEntry } from '../../server/src/audit/journal.ts';
import { bearerClient, signUpTenant } from '../support/factories.ts';
import { type TestVigil, startVigil } from '../support/vigil.ts';

/** The audit vocabulary has one home (server/src/audit/actions.ts); everything else derives from it. */
let vigil: TestVigil;
beforeAll(async () => {
  vigil = await startVigil();
});
afterAll(async () => vigil?.stop());

describe('the audit catalogue', () => {
  test('an action outside the catalogue does not compile', () => {
    // @ts-expect-error 'made.up' is no AuditAction: `npm run lint` (tsc) fails if this line compiles.
    const entry: AuditEntry = { action: 'made.up' };
    const known: AuditEntry = { action: 'session.signed_in' satisfies AuditAction };
    expect([entry.action, known.action]).toEqual(['made.up', 'session.signed_in']);
  });

  test("the API serves a company's catalogue, in its order, with what each action means: every action but the platform journal's own", async () => {
    const owner = await signUpTenant(vigil.client());
    const served = (await bearerClient(vigil, owner.token).ok('{ auditActions { action description alert attention sessionEvent } }')).auditActions;
    expect(served.map((a: { action: string }) => a.action)).toEqual(actionsWhere((m) => m.platformOnly !== true));
    expect(actionsWhere((m) => m.platformOnly === true)).toContain('operator.signed_in');
    for (const entry of served) {
      const meaning = AUDIT_ACTIONS[entry.action as AuditAction] as { description: string; alert?: true; attention?: string; sessionEvent?: string };
      expect(entry).toEqual({ action: entry.action, description: meaning.description, alert: meaning.alert === true, attention: meaning.attention ?? null, sessionEvent: meaning.sessionEvent ?? null });
    }
  });

  test('views derive from it: the overview groups, the sign-in history, the session events', () => {
    expect(attentionGroups().revocations).toEqual(['session.revoked', 'user.disabled', 'api_key.revoked', 'api_key.used_after_revocation']);
    expect(actionsWhere((m) => m.signIn === true)).toEqual(['session.signed_in', 'session.sign_in_failed', 'session.locked_out', 'session.new_device']);
  });

  test('no list of actions is kept anywhere else: the server writes catalogue names, the dashboard has none', () => {
    const actionLiteral = /'(session|user|role|api_key|audit|tenant)\.[a-z_]+'/g;
    const filesUnder = (dir: string): string[] =>
      readdirSync(dir).flatMap((name) => {
        const path = join(dir, name);
        return statSync(path).isDirectory() ? filesUnder(path) : [path];
      });
    const dashboard = filesUnder('dashboard/src').filter((f) => /\.(ts|svelte)$/.test(f));
    const permissions = new Set(Object.keys(PERMISSIONS).map((p) => `'${p}'`));
    const inDashboard = dashboard.flatMap((file) => (readFileSync(file, 'utf8').match(actionLiteral) ?? []).filter((m) => !permissions.has(m)).map((m) => `${file}: ${m}`));
    expect(inDashboard).toEqual([]);
  });
});
