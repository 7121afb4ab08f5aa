import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { DatabaseOptions } from '../../server/src/db/database.ts';

/** The PostgreSQL server tests use, or none: then every test file gets its own embedded database. */
export function testServerUrl(): string | undefined {
  return process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL;
}

export interface TestDatabase {
  options: DatabaseOptions;
  /** The owner connection, for tests that act as the database owner (tamper tests, grants). */
  ownerUrl: string | null;
  /**
   * A superuser of the same database, for inspection, when the owner is not one: a managed server's
   * owner (CREATEDB CREATEROLE) is subject to forced row-level security and sees no tenant row.
   */
  superuserUrl?: string;
  drop(): Promise<void>;
}

/** A fresh database for one test file: created on the real server, or in memory when there is none. */
export function freshDatabase(): TestDatabase {
  const server = testServerUrl();
  if (!server) return { options: { dataDir: 'memory://' }, ownerUrl: null, drop: async () => {} };
  const name = `vigil_test_${randomBytes(6).toString('hex')}`;
  const url = new URL(server);
  url.pathname = `/${name}`;
  return {
    options: { databaseUrl: url.toString(), dataDir: 'memory://' },
    ownerUrl: url.toString(),
    async drop() {
      const admin = new pg.Client({ connectionString: server });
      await admin.connect();
      try {
        await admin.query(`drop database if exists ${name} with (force)`);
      } finally {
        await admin.end();
      }
    },
  };
}
