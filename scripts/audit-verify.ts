/**
 * npm run audit:verify [-- --tenant <slug or id>] [--from <seq>] [--to <seq>]
 * Recomputes every journal's hash chain (or one tenant's) and compares it with the signed checkpoints.
 * Exit code: 0 all intact, 1 tampering found, 2 bad usage or configuration.
 */
import { parseArgs } from 'node:util';
import { sharedTrail } from '../server/src/audit/shared-trail.ts';
import { verifyChain } from '../server/src/audit/verify.ts';
import { loadConfig } from '../server/src/config.ts';
import { databaseOptionsFrom, openDatabase } from '../server/src/db/database.ts';
import { Locators } from '../server/src/db/locators.ts';
import { PLATFORM_TENANT_ID } from '../server/src/db/tenancy.ts';
import { loadServerKeys } from '../server/src/server-keys.ts';
import { isUuid } from '../server/src/tokens.ts';
import { exitWith } from './exit-with.ts';

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { tenant: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' } } });
  const config = loadConfig();
  const keys = loadServerKeys(config);
  const db = await openDatabase(databaseOptionsFrom(config));
  try {
    const locators = new Locators(db);
    const tenants = values.tenant
      ? [isUuid(values.tenant) ? values.tenant : await locators.tenantBySlug(values.tenant)]
      : [PLATFORM_TENANT_ID, ...(await locators.allTenantIds())];
    if (tenants.some((t) => !t)) {
      console.error(`No tenant ${values.tenant}.`);
      return 2;
    }
    let intact = true;
    for (const tenantId of tenants as string[]) {
      const trail = await sharedTrail(config, keys.auditVerifyKeys, tenantId);
      const range = { fromSeq: values.from ? Number(values.from) : null, toSeq: values.to ? Number(values.to) : null };
      const report = await verifyChain(db.forTenant(tenantId), trail, range);
      const checkpoint = report.lastCheckpoint ? `checkpoint seq ${report.lastCheckpoint.seq} at ${report.lastCheckpoint.time}` : 'no checkpoint yet';
      if (report.ok) console.log(`ok       ${tenantId}  seq ${report.checkedFromSeq}..${report.checkedToSeq}  (${checkpoint})`);
      else console.log(`TAMPERED ${tenantId}  first bad seq ${report.firstBadSeq ?? '-'}: ${report.problem}  (${checkpoint})`);
      intact &&= report.ok;
    }
    return intact ? 0 : 1;
  } finally {
    await db.close();
  }
}

exitWith(main());
