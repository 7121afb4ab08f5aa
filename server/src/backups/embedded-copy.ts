import { PGlite } from '@electric-sql/pglite';
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { Database } from '../db/database.ts';

/**
 * The embedded database's data directory as PGlite's own compressed tarball. dumpDataDir reads the files
 * while statements could still run; under runExclusive none does, so the files are crash-consistent (what
 * was committed is in the WAL they carry; a transaction open meanwhile is rolled back when the copy starts).
 */
export async function dumpEmbedded(db: Database): Promise<Readable> {
  const pglite = (await db.orm.em.getConnection().getNativeClient()) as unknown as PGlite;
  const tarball = await pglite.runExclusive(() => pglite.dumpDataDir('gzip'));
  return Readable.from(Buffer.from(await tarball.arrayBuffer()));
}

/** Unpacks a dump into a new data directory, as PGlite loads one. */
export async function loadEmbedded(tarballFile: string, dataDir: string): Promise<void> {
  const pglite = new PGlite(dataDir, { loadDataDir: new Blob([await readFile(tarballFile)]) });
  await pglite.waitReady;
  await pglite.close();
}
