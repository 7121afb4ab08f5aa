// What both halves of the backup figure need: a Vigil in this process, real rows up to a size, and du.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { writeCheckpoints } from '../../server/src/audit/checkpoint-job.ts';
import type { AuditOrigin } from '../../server/src/audit/journal.ts';
import { buildApp } from '../../server/src/app.ts';
import type { Config } from '../../server/src/config.ts';
import { createLogger } from '../../server/src/logger.ts';
import type { Services } from '../../server/src/services.ts';
import { inTenantTransaction } from '../../server/src/unit-of-work.ts';
import { GraphQLClient } from '../../test/support/client.ts';
import { type SignedUp, signUpTenant, uniqueSlug } from '../../test/support/factories.ts';

const run = promisify(execFile);

/** Companies signed up through the API before the journals are filled; their events are spread over them. */
const COMPANIES = 20;
/** A search journals one event per transaction; batching them only makes the fill faster, the rows are the same. */
const EVENTS_PER_TRANSACTION = 100;

export async function duMegabytes(dir: string): Promise<number> {
  const { stdout } = await run('du', ['-sk', dir]);
  return Number(stdout.split('\t')[0]) / 1024;
}

/** Vigil on the embedded data directory, in this process, without background jobs (they would write during the copies). */
export async function withVigil<T>(config: Config, work: (services: Services, url: string) => Promise<T>): Promise<T> {
  const app = buildApp(config, { jobs: false, logger: createLogger('silent') });
  const running = await app.start();
  try {
    return await work(running.services, running.url);
  } finally {
    await app.stop();
  }
}

/**
 * Real rows up to `targetMb`: companies signed up through the API (tenant, owner, roles, session, their
 * journal events), then each owner's journal searches through the journal's one door (vigil_append_audit),
 * so the chains are the real ones the drill re-verifies, and the checkpoint job signs every journal's head.
 */
export async function fill(services: Services, url: string, dataDir: string, targetMb: number): Promise<{ companies: number; events: number }> {
  const owners: SignedUp[] = [];
  for (let i = 0; i < COMPANIES; i++) owners.push(await signUpTenant(new GraphQLClient(url), { tenantSlug: uniqueSlug('bench'), email: `owner-${i}@bench.test` }));
  let events = 0;
  while ((await duMegabytes(dataDir)) < targetMb) {
    for (const owner of owners) {
      const origin: AuditOrigin = { actorType: 'user', actorId: owner.userId, sessionId: owner.sessionId, ip: '203.0.113.7', userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0' };
      await inTenantTransaction(services, { tenantId: owner.tenantId, origin, viewer: null }, async ({ journal }) => {
        for (let i = 0; i < EVENTS_PER_TRANSACTION; i++) await journal.record({ action: 'audit.read', details: { filter: { actions: ['session.signed_in', 'session.sign_in_failed'] } } });
      });
      events += EVENTS_PER_TRANSACTION;
    }
  }
  await writeCheckpoints(services, 60);
  return { companies: COMPANIES, events };
}
