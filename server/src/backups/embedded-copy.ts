import { PGlite } from '@electric-sql/pglite';
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { Database } from '../db/database.ts';

/**
 * The embedded database's data directory as PGlite's own compressed tarball. PGlite runs one statement at
 * a time, so the dump sees a consistent, committed state.
 */
export async function dumpEmbedded(db: Database): Promise<Readable> {
  const pglite = (await db.orm.em.getConnection().getNativeClient()) as unknown as PGlite;
  const tarball = await pglite.dumpDataDir('gzip');
  return Readable.from(Buffer.from(await tarball.arrayBuffer()));
}

/** Unpacks a dump into a new data directory, as PGlite loads one. */
export async function loadEmbedded(tarballFile: string, dataDir: string): Promise<void> {
  const pglite = new PGlite(dataDir, { loadDataDir: new Blob([await readFile(tarballFile)]) });
  await pglite.waitReady;
  await pglite.close();
}
