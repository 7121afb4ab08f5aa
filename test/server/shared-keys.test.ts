import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { appendCheckpoint, verifiedCheckpoints } from '../../server/src/audit/checkpoints.ts';
import { writeCheckpoints } from '../../server/src/audit/checkpoint-job.ts';
import { loadConfig } from '../../server/src/config.ts';
import { loadServerKeys, signingKeyId, writeKeySet } from '../../server/src/server-keys.ts';
import { STRONG_PASSWORD, bearerClient, signIn, signUpTenant } from '../support/factories.ts';
import { type TestVigil, startVigil } from '../support/vigil.ts';

const secrets = mkdtempSync(join(tmpdir(), 'vigil-keys-'));
const file = (name: string, content: string) => {
  writeFileSync(join(secrets, name), content, { mode: 0o600 });
  return join(secrets, name);
};
const newSigningKey = () => generateKeyPairSync('ed25519');
const pem = (key: ReturnType<typeof newSigningKey>) => ({
  private: key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  public: key.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
});
const k1 = `k1:${randomBytes(32).toString('base64')}`;
const k2 = `k2:${randomBytes(32).toString('base64')}`;
const signerA = pem(newSigningKey());
const signerB = pem(newSigningKey());
const SETTINGS = { ENCRYPTION_KEYS_FILE: file('enc-1', k1), AUDIT_SIGNING_KEY_FILE: file('sign-a.pem', signerA.private) };
const ROTATED = { ENCRYPTION_KEYS_FILE: file('enc-2', `${k2},${k1}`), AUDIT_SIGNING_KEY_FILE: file('sign-b.pem', signerB.private), AUDIT_VERIFY_KEYS_FILE: file('retired.pem', signerA.public) };

let first: TestVigil;
let second: TestVigil;
beforeAll(async () => {
  // Two instances of one deployment: one database, each its own VIGIL_HOME (its own volume), the same key settings.
  first = await startVigil({ env: SETTINGS });
  second = await startVigil({ shareWith: first, clock: first.clock, env: SETTINGS });
});
afterAll(async () => {
  await Promise.all([second?.stop(), first?.stop()]);
  rmSync(secrets, { recursive: true, force: true });
});

const codeNow = (secret: string, vigil: TestVigil) => generate({ secret, epoch: Math.floor(vigil.clock.now().getTime() / 1000) });

describe('keys from settings, the same on every instance', () => {
  test('TOTP enrolled through one instance verifies through the other, whose own home holds no key', async () => {
    expect(first.config.secretsDir).not.toBe(second.config.secretsDir);
    for (const vigil of [first, second]) expect(existsSync(join(vigil.config.secretsDir, 'encryption.key'))).toBe(false);
    const owner = await signUpTenant(first.client());
    const client = bearerClient(first, owner.token);
    const { secret } = (await client.ok(`mutation { enrollTotp(currentPassword: "${STRONG_PASSWORD}") { secret } }`)).enrollTotp;
    await client.ok('mutation($c: String!) { confirmTotp(code: $c) }', { c: await codeNow(secret, first) });
    first.clock.advance(30);
    const challenge = (await signIn(second.client(), { tenantSlug: owner.slug, email: owner.email })).errors![0].extensions!.challenge as string;
    const done = await second.client().ok('mutation($i: CompleteSignInInput!) { completeSignIn(input: $i) { session { authMethod } } }', { i: { challenge, code: await codeNow(secret, second) } });
    expect(done.completeSignIn.session.authMethod).toBe('password+totp');
  });

  test('a checkpoint written by one instance is verified by the other', async () => {
    const { tenantId } = await signUpTenant(first.client());
    expect(await writeCheckpoints(first.services, 60)).toBeGreaterThan(0);
    const trail = verifiedCheckpoints(first.config.checkpointsDir, second.services.keys.auditVerifyKeys, tenantId);
    expect(trail).toMatchObject({ problem: null });
    expect(trail.valid[0].keyId).toBe(signingKeyId(second.services.keys.auditSigningKey));
  });
});

describe('rotation', () => {
  test('after a rotation, secrets and checkpoints made before and after verify; a key outside the published set does not', async () => {
    const before = loadServerKeys(loadConfig({ VIGIL_HOME: mkdtempSync(join(tmpdir(), 'vigil-keys-a-')), ...SETTINGS }));
    const after = loadServerKeys(loadConfig({ VIGIL_HOME: mkdtempSync(join(tmpdir(), 'vigil-keys-b-')), ...ROTATED }));
    const old = before.encrypt('JBSWY3DPEHPK3PXP');
    const fresh = after.encrypt('KRSXG5CTMVRXEZLU');
    expect(old.startsWith('k1.')).toBe(true);
    expect(fresh.startsWith('k2.')).toBe(true);
    expect(after.decrypt(old)).toBe('JBSWY3DPEHPK3PXP');
    expect(after.decrypt(fresh)).toBe('KRSXG5CTMVRXEZLU');
    expect(() => before.decrypt(fresh)).toThrow(/No encryption key k2/);

    const dir = mkdtempSync(join(tmpdir(), 'vigil-trail-'));
    const tenantId = '11111111-1111-4111-8111-111111111111';
    appendCheckpoint(dir, { key: before.auditSigningKey, keyId: before.auditSigningKeyId }, { tenantId, seq: 3, hash: 'a'.repeat(64) }, new Date());
    appendCheckpoint(dir, { key: after.auditSigningKey, keyId: after.auditSigningKeyId }, { tenantId, seq: 7, hash: 'b'.repeat(64) }, new Date());
    expect(verifiedCheckpoints(dir, after.auditVerifyKeys, tenantId)).toMatchObject({ problem: null, valid: [{ seq: 3 }, { seq: 7 }] });
    // Without the retired key in the published set, what it signed no longer counts.
    expect(verifiedCheckpoints(dir, new Map([[after.auditSigningKeyId, after.auditVerifyKey]]), tenantId).problem).toMatch(/seq 3 is signed by key .*not in the published set/);

    const intruder = newSigningKey();
    const forged = { key: intruder.privateKey, keyId: signingKeyId(intruder.privateKey) };
    appendCheckpoint(dir, forged, { tenantId, seq: 9, hash: 'c'.repeat(64) }, new Date());
    expect(verifiedCheckpoints(dir, after.auditVerifyKeys, tenantId)).toMatchObject({ valid: [{ seq: 3 }, { seq: 7 }], problem: expect.stringMatching(/seq 9 .*not in the published set/) });
    // A forger who claims a published key id: the signature does not verify.
    const lines = readFileSync(join(dir, `${tenantId}.jsonl`), 'utf8').trim().split('\n');
    const claimed = { ...JSON.parse(lines[2]), keyId: after.auditSigningKeyId };
    writeFileSync(join(dir, `${tenantId}.jsonl`), `${lines.slice(0, 2).join('\n')}\n`);
    appendFileSync(join(dir, `${tenantId}.jsonl`), `${JSON.stringify(claimed)}\n`);
    expect(verifiedCheckpoints(dir, after.auditVerifyKeys, tenantId).problem).toMatch(/seq 9 has a bad signature/);
    rmSync(dir, { recursive: true, force: true });
  });

  test('production refuses to start without its keys, instead of generating a set of its own', () => {
    const home = mkdtempSync(join(tmpdir(), 'vigil-keys-p-'));
    const production = { VIGIL_HOME: home, NODE_ENV: 'production', TRUSTED_PROXIES: 'loopback', PROXY_TERMINATES_TLS: 'true' };
    expect(() => loadServerKeys(loadConfig(production))).toThrow(/^Refusing to start in production without the server's keys: set ENCRYPTION_KEYS_FILE .* and AUDIT_SIGNING_KEY_FILE/);
    expect(() => loadServerKeys(loadConfig({ ...production, ENCRYPTION_KEYS_FILE: SETTINGS.ENCRYPTION_KEYS_FILE }))).toThrow(/Refusing to start in production/);
    expect(existsSync(join(home, 'secrets', 'encryption.key'))).toBe(false);
    expect(loadServerKeys(loadConfig({ ...production, ...writeKeySet(join(home, 'keys')) })).auditVerifyKeys.size).toBe(1);
    expect(() => writeKeySet(join(home, 'keys'))).toThrow(/EEXIST/);
    rmSync(home, { recursive: true, force: true });
  });

  test('a key setting that cannot be used stops the start with a sentence that never shows the key', () => {
    const home = mkdtempSync(join(tmpdir(), 'vigil-keys-c-'));
    const material = randomBytes(16).toString('base64');
    const load = (env: Record<string, string>) => () => loadServerKeys(loadConfig({ VIGIL_HOME: home, ...env }));
    expect(load({ ENCRYPTION_KEYS: `k1:${material}` })).toThrow(/encryption key 1 is not <id>:<32 bytes in base64>/);
    try {
      load({ ENCRYPTION_KEYS: `k1:${material}` })();
    } catch (error) {
      expect((error as Error).message).not.toContain(material);
    }
    expect(load({ ENCRYPTION_KEYS: `${k1},${k1}` })).toThrow(/same id/);
    expect(load({ AUDIT_SIGNING_KEY_FILE: join(home, 'missing.pem') })).toThrow(/AUDIT_SIGNING_KEY_FILE .* cannot be read \(ENOENT\)/);
    expect(load({ AUDIT_SIGNING_KEY_FILE: file('not-ed25519.pem', generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()) })).toThrow(/Ed25519/);
    expect(() => loadConfig({ VIGIL_HOME: home, ENCRYPTION_KEYS: k1, ENCRYPTION_KEYS_FILE: SETTINGS.ENCRYPTION_KEYS_FILE })).toThrow(/set one/);
    rmSync(home, { recursive: true, force: true });
  });
});
