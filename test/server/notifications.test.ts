import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AUDIT_ACTIONS, type AuditAction, actionsWhere } from '../../server/src/audit/actions.ts';
import type { AuditEntry } from '../../server/src/audit/journal.ts';
import { SYSTEM_ORIGIN } from '../../server/src/audit/journal.ts';
import { ConfigError } from '../../server/src/config-error.ts';
import { loadConfig } from '../../server/src/config.ts';
import { Notifier, startNotifications } from '../../server/src/notifications/notifier.ts';
import { NOTIFYING_ACTIONS } from '../../server/src/notifications/wake.ts';
import { createMailer } from '../../server/src/notifications/mailer.ts';
import { type CreatedOperator, createOperator } from '../../server/src/platform/operators.ts';
import type { Services } from '../../server/src/services.ts';
import { inTenantTransaction } from '../../server/src/unit-of-work.ts';
import { errorCode } from '../support/client.ts';
import { bearerClient, inviteEmployee, signIn, signUpTenant, uniqueSlug } from '../support/factories.ts';
import { signedInOperator } from '../support/operator-console.ts';
import { asOwner } from '../support/owner-sql.ts';
import { type ReceivedMail, type SmtpServer, startSmtpServer } from '../support/smtp-server.ts';
import { type TestVigil, startVigil } from '../support/vigil.ts';
import { waitFor } from '../support/wait.ts';

const FROM = 'Vigil Security <security@vigil.test>';
const REQUEST_DELETION = 'mutation($r: String!) { requestCompanyDeletion(reason: $r) { id intentHash } }';
const LOCKDOWN = 'mutation($i: LockdownInput!) { lockDown(input: $i) { journalToSeq } }';

let smtp: SmtpServer;
let vigil: TestVigil;
let second: TestVigil;
let operator: CreatedOperator;
const stops: Array<() => Promise<void>> = [];
const failures: unknown[] = [];

beforeAll(async () => {
  smtp = await startSmtpServer();
  const env = { SMTP_URL: smtp.url, MAIL_FROM: FROM, NOTIFICATIONS_INTERVAL_SECONDS: '1' };
  vigil = await startVigil({ env });
  second = await startVigil({ env, shareWith: vigil, clock: vigil.clock });
  operator = await createOperator(vigil.services, { email: 'otto@vendor.test', displayName: 'Otto Operator' });
  for (const instance of [vigil, second]) stops.push(startNotifications(instance.services, (error) => failures.push(error)));
}, 60_000);
afterAll(async () => {
  for (const stop of stops) await stop();
  await second?.stop();
  await vigil?.stop();
  await smtp?.stop();
});

/** A company with its owner, two administrators (the second disabled) and an employee, each signed in. */
async function company(name = 'Acme Corp') {
  const owner = await signUpTenant(vigil.client(), { tenantName: name, tenantSlug: uniqueSlug(), email: `owner-${uniqueSlug('o')}@acme.test`, displayName: 'Olga Owner' });
  const client = bearerClient(vigil, owner.token);
  const admin = await inviteEmployee(client, 'Administrator');
  const formerAdmin = await inviteEmployee(client, 'Administrator');
  const employee = await inviteEmployee(client, 'Employee');
  await client.ok('mutation($id: ID!) { disableUser(userId: $id) { id } }', { id: formerAdmin.userId });
  return { ...owner, client, admin, formerAdmin, employee };
}
type Company = Awaited<ReturnType<typeof company>>;

const mailsTo = (address: string) => smtp.mails.filter((m) => m.envelopeTo.includes(address));
const mailsOf = (c: Company) => mailsTo(c.email);

/** The mails of an action for the company, once as many have come as expected (and no more came meanwhile). */
async function mailsOfAction(c: Company, action: AuditAction, expected = 1): Promise<ReceivedMail[]> {
  const of = () => mailsOf(c).filter((m) => m.text.includes(`(${action})`));
  await waitFor(() => of().length >= expected, 10_000);
  return of();
}

async function journalled(tenantId: string, entries: AuditEntry[]): Promise<void> {
  await inTenantTransaction(vigil.services, { tenantId, origin: { ...SYSTEM_ORIGIN, actorType: 'operator', actorId: operator.id }, viewer: null }, async ({ journal }) => {
    for (const entry of entries) await journal.record(entry);
  });
}

const cursorOf = async (tenantId: string) =>
  (await asOwner(vigil, (q) => q<{ last_seq: string; failures: number; lease_id: string | null }>('select last_seq, failures, lease_id from notification_cursor where tenant_id = $1', [tenantId])))[0];

/** A logger whose lines the test reads. */
function capturingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({ write: (chunk: Buffer, _encoding, done) => void (lines.push(JSON.parse(chunk.toString())), done()) });
  return { log: pino({ level: 'info' }, sink), lines };
}

describe('what notifies', () => {
  test("every company-side critical operation step, the support grant's use and break-glass, lockdown, a journal rollback, a security alert and a webhook endpoint Vigil disabled: marked once, in the vocabulary", () => {
    const expected = actionsWhere((m) => !m.platformOnly).filter(
      (a) => a.startsWith('critical_operation.') || ['support.granted', 'support.revoked', 'support.access', 'support.break_glass', 'incident.lockdown', 'journal.rollback_detected', 'security.alert', 'webhook.endpoint_disabled'].includes(a),
    );
    expect([...NOTIFYING_ACTIONS].sort()).toEqual(expected.sort());
    expect((AUDIT_ACTIONS['support.access'] as { notify?: unknown }).notify).toBe('first_per_grant');
  });
});

describe('mail to owners and administrators', () => {
  test('a deletion request: the owner and the active administrator are told at once, the employee and the disabled administrator are not; no secret in it', async () => {
    const c = await company();
    const requested = (await c.client.ok(REQUEST_DELETION, { r: 'We are closing the business.' })).requestCompanyDeletion;
    const [mail] = await mailsOfAction(c, 'critical_operation.requested');
    expect(mail.envelopeTo.sort()).toEqual([c.email, c.admin.email].sort());
    expect(mail.envelopeFrom).toBe('security@vigil.test');
    expect(mail.headers.get('to')).toContain(c.admin.email);
    expect(mail.subject).toBe('[Vigil] Critical operation requested: company deletion');
    expect(mail.messageId).toMatch(/^<notice\.[0-9a-f-]{36}@vigil\.test>$/);
    expect(mail.headers.get('auto-submitted')).toBe('auto-generated');
    expect(mail.text).toContain(AUDIT_ACTIONS['critical_operation.requested'].description);
    expect(mail.text).toMatch(/When: +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
    expect(mail.text).toMatch(/By: +Olga Owner/);
    expect(mail.text).toMatch(/Operation: +company deletion, now requested/);
    expect(mail.text).toMatch(/Reason: +We are closing the business\./);
    expect(mail.text).toContain("If this wasn't you, or you do not want it, cancel it on the Company screen");
    for (const secret of [c.token, c.admin.token, c.employee.token, c.sessionId, requested.intentHash, '127.0.0.1']) expect(mail.raw).not.toContain(secret);
    expect(mailsTo(c.employee.email)).toEqual([]);
    expect(mailsTo(c.formerAdmin.email)).toEqual([]);
  });

  test("the operator's verification and approval, then an administrator's cancel: one mail each, saying who and what state", async () => {
    const c = await company();
    const requested = (await c.client.ok(REQUEST_DELETION, { r: 'We are closing the business.' })).requestCompanyDeletion;
    const ops = await signedInOperator(vigil, operator);
    const op = 'id state';
    await ops.ok(`mutation($id: ID!, $h: String!) { verifyCriticalOperation(id: $id, intentHash: $h, method: CALL_BACK, reference: "called back") { ${op} } }`, { id: requested.id, h: requested.intentHash });
    await ops.ok(`mutation($id: ID!, $h: String!) { approveCriticalOperation(id: $id, intentHash: $h) { ${op} } }`, { id: requested.id, h: requested.intentHash });
    const [approved] = await mailsOfAction(c, 'critical_operation.approved');
    expect(approved.text).toMatch(/By: +a platform operator \(Vigil's support\)/);
    expect(approved.text).toMatch(/Operation: +company deletion, now cooling off: it happens at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC unless cancelled/);
    await c.admin.client.ok('mutation($id: ID!) { cancelCriticalOperation(id: $id, reason: "Not what we decided.") { state } }', { id: requested.id });
    const [cancelled] = await mailsOfAction(c, 'critical_operation.cancelled');
    expect(cancelled.text).toMatch(/By: +Administrator/);
    expect(cancelled.text).toMatch(/Operation: +company deletion, now cancelled/);
    expect(cancelled.text).not.toContain("If this wasn't you");
    const subjects = mailsOf(c).map((m) => m.subject);
    expect(subjects).toEqual(['requested', 'verified', 'approved', 'cancelled'].map((step) => `[Vigil] Critical operation ${step}: company deletion`));
  });

  test('an ownership transfer names the new owner', async () => {
    const c = await company();
    await c.client.ok('mutation($u: ID!, $r: String!) { requestOwnershipTransfer(newOwnerId: $u, reason: $r) { id } }', { u: c.admin.userId, r: 'Handing the company over.' });
    const [mail] = await mailsOfAction(c, 'critical_operation.requested');
    expect(mail.subject).toBe('[Vigil] Critical operation requested: ownership transfer');
    expect(mail.text).toMatch(/Operation: +ownership transfer to Administrator, now requested/);
  });

  test('a lockdown mails; the reset tokens of that day are in no mail', async () => {
    const c = await company();
    await c.admin.client.ok(LOCKDOWN, { i: { scope: 'USER', userId: c.employee.userId, reason: 'Phishing click reported.' } });
    const [mail] = await mailsOfAction(c, 'incident.lockdown');
    expect(mail.subject).toBe('[Vigil] Incident lockdown');
    expect(mail.envelopeTo.sort()).toEqual([c.email, c.admin.email].sort());
    expect(mail.text).toContain(AUDIT_ACTIONS['incident.lockdown'].description);
    expect(mail.text).toMatch(/By: +Administrator/);
    expect(mail.text).toMatch(/Locked down: +Employee \(one employee\)/);
    expect(mail.text).toMatch(/Reason: +Phishing click reported\./);
    const refused = await signIn(vigil.client(), { tenantSlug: c.slug, email: c.employee.email });
    expect(errorCode(refused)).toBe('PASSWORD_CHANGE_REQUIRED');
    const changeToken = refused.errors![0].extensions!.resetToken as string;
    const reset = (await c.client.ok('mutation($id: ID!) { resetUserPassword(userId: $id) { token } }', { id: c.admin.userId })).resetUserPassword.token as string;
    for (const m of smtp.mails) for (const secret of [reset, changeToken, c.employee.token, c.admin.token]) expect(m.raw).not.toContain(secret);
  });

  test("a security alert mails its rule in the catalogue's words, its severity and its evidence, never the address", async () => {
    const c = await company();
    await journalled(c.tenantId, [
      { action: 'security.alert', outcome: 'failure', details: { rule: 'credential_stuffing', severity: 'high', subject: '203.0.113.9', ip: '203.0.113.9', threshold: 20, windowSeconds: 600, evidenceSeqs: Array.from({ length: 12 }, (_, i) => 40 + i) } },
    ]);
    const [mail] = await mailsOfAction(c, 'security.alert');
    expect(mail.subject).toBe('[Vigil] Security alert');
    expect(mail.envelopeTo.sort()).toEqual([c.email, c.admin.email].sort());
    expect(mail.text).toMatch(/Alert: +Failed sign-ins over 20 different accounts from one address within the window\. \(credential_stuffing, severity high\)/);
    expect(mail.text).toMatch(/Evidence: +#40, #41, #42, #43, #44, #45, #46, #47, #48, #49, … \(12 entries in all\) of the journal/);
    expect(mail.raw).not.toContain('203.0.113.9');
  });

  test('a journal rollback mails the lost range', async () => {
    const c = await company();
    await journalled(c.tenantId, [{ action: 'journal.rollback_detected', outcome: 'failure', details: { tenantId: c.tenantId, missingFromSeq: 8, missingToSeq: 11, checkpointSeq: 11 } }]);
    const [mail] = await mailsOfAction(c, 'journal.rollback_detected');
    expect(mail.subject).toBe('[Vigil] Journal rollback detected');
    expect(mail.envelopeTo.sort()).toEqual([c.email, c.admin.email].sort());
    expect(mail.text).toMatch(/Lost: +entries #8 to #11 of the journal/);
    expect(mail.text).toContain('The signed checkpoint shows these entries existed');
  });

  test('support: a grant, the first access under each grant (not every access), a revocation, a break-glass; typed text stays on its line and out of the headers', async () => {
    const c = await company();
    const [first, other] = [crypto.randomUUID(), crypto.randomUUID()];
    const hostile = 'Ticket 4711\r\nBcc: attacker@evil.test\r\n\r\nforged body';
    await journalled(c.tenantId, [
      { action: 'support.granted', details: { grantId: first, reason: hostile, caseReference: 'CASE-4711', expiresAt: '2026-12-24T18:00:00.000Z', scopes: ['journal', 'metadata'] } },
      { action: 'support.access', details: { grantId: first, operation: 'auditEvents' } },
      { action: 'support.access', details: { grantId: first, operation: 'users' } },
      { action: 'support.granted', details: { grantId: other, reason: 'Second case' } },
      { action: 'support.access', details: { grantId: other, operation: 'sessions' } },
      { action: 'support.access', details: { grantId: first, operation: 'sessions' } },
      { action: 'support.revoked', details: { grantId: first } },
      { action: 'support.break_glass', details: { step: 'requested', justification: 'security_incident' } },
    ]);
    await mailsOfAction(c, 'support.break_glass');
    const mails = mailsOf(c);
    expect(mails.map((m) => m.subject)).toEqual(['granted', 'access', 'granted', 'access', 'revoked', 'break glass'].map((s) => `[Vigil] Support ${s}`));
    const [granted] = mails;
    expect(granted.text).toMatch(/Reason: +Ticket 4711 Bcc: attacker@evil\.test forged body\n/);
    expect(granted.text).toMatch(/Case: +CASE-4711/);
    expect(granted.text).toMatch(/Until: +2026-12-24 18:00:00 UTC/);
    expect(granted.text).toMatch(/Access: +journal, metadata/);
    expect(granted.headers.has('bcc')).toBe(false);
    expect(smtp.mails.flatMap((m) => m.envelopeTo)).not.toContain('attacker@evil.test');
    expect(mails[5].text).toMatch(/Step: +requested\nJustification: +security_incident/);
  });
});

describe('once, and never lost', () => {
  test('two instances on one database, both woken and both ticking, send each mail once', async () => {
    const companies = [await company('First Corp'), await company('Second Corp')];
    const before = smtp.mails.length;
    await Promise.all(companies.map((c) => journalled(c.tenantId, Array.from({ length: 6 }, () => ({ action: 'support.granted' as const, details: { grantId: crypto.randomUUID() } })))));
    await Promise.all(companies.flatMap((c) => [c.client.ok(LOCKDOWN, { i: { scope: 'USER', userId: c.employee.userId, reason: 'Phishing click reported.' } }), c.client.ok(REQUEST_DELETION, { r: 'We are closing the business.' })]));
    // The racing both ways at once, besides the jobs: every company, by both instances.
    const racers = [vigil, second].map((instance) => new Notifier(instance.services, createMailer(smtp.url, FROM), FROM));
    await Promise.all(racers.flatMap((r) => [r.runDue(), ...companies.map((c) => r.deliver(c.tenantId))]));
    const theirs = () => smtp.mails.slice(before).filter((m) => companies.some((c) => m.envelopeTo.includes(c.email)));
    await waitFor(() => theirs().length >= 16, 10_000);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const ids = theirs().map((m) => m.messageId);
    expect(new Set(ids).size).toBe(16);
    expect(ids).toHaveLength(16);
    for (const c of companies) expect((await cursorOf(c.tenantId)).lease_id).toBeNull();
    await Promise.all(racers.map((r) => r.stop()));
  });

  test('SMTP down: nothing is lost, the mails come in order once it is back', async () => {
    const c = await company();
    await smtp.stop();
    await c.client.ok(LOCKDOWN, { i: { scope: 'USER', userId: c.employee.userId, reason: 'First incident.' } });
    await c.client.ok(REQUEST_DELETION, { r: 'We are closing the business.' });
    await waitFor(async () => ((await cursorOf(c.tenantId))?.failures ?? 0) >= 1, 10_000);
    expect(mailsOf(c)).toEqual([]);
    await smtp.start();
    vigil.clock.advance(10 * 60); // past any retry's backoff
    await mailsOfAction(c, 'critical_operation.requested');
    expect(mailsOf(c).map((m) => m.subject)).toEqual(['[Vigil] Incident lockdown', '[Vigil] Critical operation requested: company deletion']);
    expect((await cursorOf(c.tenantId)).failures).toBe(0);
  });

  test('a mail the server refuses for good is given up after bounded retries, logged by its event id alone, and does not hold back the next', async () => {
    const c = await company();
    const { log, lines } = capturingLogger();
    const services: Services = { ...vigil.services, log };
    const notifier = new Notifier(services, createMailer(smtp.url, FROM), FROM);
    // The jobs must not race this one: the cursor stays leased to them while they try.
    await stopJobsFor(async () => {
      smtp.refuseContaining('REFUSE-THIS-ONE');
      try {
        await c.client.ok(LOCKDOWN, { i: { scope: 'USER', userId: c.employee.userId, reason: 'REFUSE-THIS-ONE' } });
        await c.client.ok(LOCKDOWN, { i: { scope: 'USER', userId: c.admin.userId, reason: 'The next one.' } });
        for (let attempt = 1; attempt <= 5; attempt++) {
          await notifier.deliver(c.tenantId);
          vigil.clock.advance(10 * 60);
        }
      } finally {
        smtp.refuseContaining(null);
      }
      expect(mailsOf(c).map((m) => m.text.match(/Reason: +(.*)/)?.[1])).toEqual(['The next one.']);
    });
    const failed = lines.filter((l) => String(l.msg).includes('notification mail'));
    expect(failed.map((l) => l.level)).toEqual([40, 40, 40, 40, 50]);
    const lockdownId = failed[0].eventId;
    for (const line of failed) {
      expect(line.eventId).toBe(lockdownId);
      expect(Object.keys(line).filter((k) => !['level', 'time', 'pid', 'hostname', 'msg', 'eventId', 'code', 'responseCode', 'attempt', 'attempts'].includes(k))).toEqual([]);
    }
    expect(JSON.stringify(lines)).not.toContain('REFUSE-THIS-ONE');
    await notifier.stop();
  });
});

/** Stops both instances' notification jobs for the work, and starts them again after it. */
async function stopJobsFor(work: () => Promise<void>): Promise<void> {
  for (const stop of stops.splice(0)) await stop();
  try {
    await work();
  } finally {
    for (const instance of [vigil, second]) stops.push(startNotifications(instance.services, (error) => failures.push(error)));
  }
}

describe('without SMTP', () => {
  test('SMTP_URL unset: mail is off, said once at start, and everything else works', async () => {
    const plain = await startVigil();
    try {
      const { log, lines } = capturingLogger();
      const stop = startNotifications({ ...plain.services, log }, (error) => failures.push(error));
      expect(lines.map((l) => l.msg)).toEqual([expect.stringContaining('SMTP_URL is not set')]);
      expect(lines[0].level).toBe(30);
      const owner = await signUpTenant(plain.client());
      const client = bearerClient(plain, owner.token);
      await client.ok(REQUEST_DELETION, { r: 'We are closing the business.' });
      await client.ok(LOCKDOWN, { i: { scope: 'SELF', keepCurrentSession: true, reason: 'Testing without mail.' } });
      expect(await asOwner(plain, (q) => q('select 1 from notification_cursor'))).toEqual([]);
      await stop();
      expect(lines).toHaveLength(1);
    } finally {
      await plain.stop();
    }
  });
});

describe('settings', () => {
  const base = { VIGIL_HOME: '/tmp/vigil-config-test' };
  test('SMTP_URL needs MAIL_FROM; a bad SMTP_URL is refused without repeating its password; MAIL_FROM is one address', () => {
    expect(() => loadConfig({ ...base, SMTP_URL: 'smtp://mail.example.com:587' })).toThrow(/SMTP_URL needs MAIL_FROM/);
    const refused = (() => {
      try {
        loadConfig({ ...base, SMTP_URL: 'http://user:s3cret-pass@mail.example.com', MAIL_FROM: FROM });
      } catch (error) {
        return error;
      }
    })();
    expect(refused).toBeInstanceOf(ConfigError);
    expect((refused as Error).message).toMatch(/SMTP_URL/);
    expect((refused as Error).message).not.toContain('s3cret-pass');
    expect(() => loadConfig({ ...base, SMTP_URL: 'smtp://mail.example.com', MAIL_FROM: 'Vigil <a@b.test>\r\nBcc: x@evil.test' })).toThrow(/MAIL_FROM/);
    const config = loadConfig({ ...base, SMTP_URL: 'smtps://user:pass@mail.example.com', MAIL_FROM: FROM });
    expect(config).toMatchObject({ smtpUrl: 'smtps://user:pass@mail.example.com', mailFrom: FROM, notificationsIntervalSeconds: 5 });
    expect(loadConfig(base).smtpUrl).toBeUndefined();
  });

  test('in production the SMTP hop must be encrypted over a network, with the certificate checked', () => {
    const production = { ...base, NODE_ENV: 'production', PROXY_TERMINATES_TLS: 'true', TRUSTED_PROXIES: 'loopback', MAIL_FROM: FROM };
    expect(() => loadConfig({ ...production, SMTP_URL: 'smtp://mail.example.com:587' })).toThrow(/SMTP hop .* plain text/);
    expect(() => loadConfig({ ...production, SMTP_URL: 'smtps://mail.example.com?tls.rejectUnauthorized=false' })).toThrow(/certificate/);
    for (const url of ['smtps://mail.example.com', 'smtp://mail.example.com:587?requireTLS=true', 'smtp://127.0.0.1:25']) expect(loadConfig({ ...production, SMTP_URL: url }).smtpUrl).toBe(url);
  });
});

afterAll(() => expect(failures).toEqual([]));
