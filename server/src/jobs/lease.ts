import type { EntityManager } from '@mikro-orm/postgresql';
import { ScheduledJob } from './scheduled-job.entity.ts';

/**
 * Claims a job's lease in PostgreSQL; true for exactly one instance until the lease runs out.
 * One conditional UPDATE decides, so concurrent instances cannot both win.
 */
export async function claimLease(em: EntityManager, job: string, now: Date, leaseSeconds: number): Promise<boolean> {
  await em.upsert(ScheduledJob, { name: job, leasedUntil: null, lastRunAt: null }, { onConflictAction: 'ignore' });
  const claimed = await em.nativeUpdate(
    ScheduledJob,
    { name: job, $or: [{ leasedUntil: null }, { leasedUntil: { $lte: now } }] },
    { leasedUntil: new Date(now.getTime() + leaseSeconds * 1000), lastRunAt: now },
  );
  return claimed === 1;
}

/** Runs `work` shortly after start (or firstAfterSeconds) and then every intervalSeconds; errors are reported, never thrown into the timer. */
export function every(intervalSeconds: number, work: () => Promise<unknown>, onError: (error: unknown) => void, firstAfterSeconds = 1): () => void {
  const run = () => void work().catch(onError);
  const first = setTimeout(run, firstAfterSeconds * 1000);
  const timer = setInterval(run, intervalSeconds * 1000);
  first.unref();
  timer.unref();
  return () => {
    clearTimeout(first);
    clearInterval(timer);
  };
}
