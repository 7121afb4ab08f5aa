import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { errorCode } from '../support/client.ts';
import { signIn, signUpTenant } from '../support/factories.ts';
import { asOwner, auditRows } from '../support/owner-sql.ts';
import { type TestVigil, startVigil } from '../support/vigil.ts';

let vigil: TestVigil;
beforeAll(async () => {
  vigil = await startVigil();
});
afterAll(async () => vigil?.stop());

const counts = (rows: Array<{ action: string }>) =>
  rows.reduce<Record<string, number>>((acc, r) => ({ ...acc, [r.action]: (acc[r.action] ?? 0) + 1 }), {});

describe('the journal of the account lifecycle', () => {
  test('each audited action writes exactly one row, with who, what, when and where', async () => {
    const browser = vigil.client();
    const owner = await signUpTenant(browser);
    expect(counts(await auditRows(vigil, owner.tenantId))).toEqual({ 'tenant.created': 1, 'user.signed_up': 1, 'session.signed_in': 1 });

    const app = vigil.client();
    app.extraHeaders['user-agent'] = 'VigilTest/1.0';
    const signedIn = await signIn(app, { tenantSlug: owner.slug, email: owner.email });
    app.bearer = signedIn.data!.signIn.token;
    const appSession = signedIn.data!.signIn.session.id;
    await signIn(vigil.client(), { tenantSlug: owner.slug, email: owner.email, password: 'definitely wrong' });
    await app.ok('mutation { signOut }');

    const rows = await auditRows(vigil, owner.tenantId);
    expect(counts(rows)).toEqual({
      'tenant.created': 1,
      'user.signed_up': 1,
      'session.signed_in': 2,
      'session.new_device': 1,
      'session.sign_in_failed': 1,
      'session.signed_out': 1,
    });
    expect(rows.map((r) => Number(r.seq))).toEqual(rows.map((_, i) => i + 1));
    const signOut = rows.find((r) => r.action === 'session.signed_out')!;
    expect(signOut).toMatchObject({
      outcome: 'success',
      actor_id: owner.userId,
      target_id: appSession,
      session_id: appSession,
      ip: '127.0.0.1',
      user_agent: 'VigilTest/1.0',
    });
    expect(Math.abs(new Date(signOut.occurred_at).getTime() - Date.now())).toBeLessThan(60_000);
    const everything = JSON.stringify(rows);
    expect(everything).not.toContain(owner.token.split('.')[1]);
    expect(everything).not.toContain(app.bearer!.split('.')[1]);
    expect(everything).not.toContain('definitely wrong');
    expect(everything).not.toContain('correct horse');
  });

  test('when the audit row cannot be written the action does not happen either', async () => {
    const app = vigil.client();
    const owner = await signUpTenant(app);
    app.bearer = owner.token;
    await asOwner(vigil, async (q) => {
      await q(`create or replace function refuse_sign_out() returns trigger language plpgsql as $$
        begin if new.action = 'session.signed_out' then raise exception 'journal disk full at /var/secret/path'; end if; return new; end $$`);
      await q('create trigger refuse_sign_out before insert on audit_event for each row execute function refuse_sign_out()');
    });
    try {
      const result = await app.request('mutation { signOut }');
      expect(errorCode(result)).toBe('INTERNAL_SERVER_ERROR');
      expect(result.errors![0].message).toBe('Unexpected error.');
      expect(JSON.stringify(result)).not.toMatch(/secret\/path|journal disk|stack|audit_event|insert/i);
    } finally {
      await asOwner(vigil, (q) => q('drop trigger refuse_sign_out on audit_event'));
    }
    // The session was not ended: its change rolled back with the refused audit row.
    expect((await app.ok('{ viewer { session { id } } }')).viewer.session.id).toBe(owner.sessionId);
    expect(counts(await auditRows(vigil, owner.tenantId))['session.signed_out']).toBeUndefined();
  });
});
