import type { EntityManager } from '@mikro-orm/postgresql';

/**
 * A lock held until the transaction ends, named by a string: what makes a check-then-write one step across
 * instances (two that check at once queue; the second sees the first's write).
 */
export async function lockUntilCommit(em: EntityManager, name: string): Promise<void> {
  await em.execute('select pg_advisory_xact_lock(hashtextextended(?, 0))', [name]);
}
