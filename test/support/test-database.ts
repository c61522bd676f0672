import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import type { Dialect } from './dialects.js';

/** A store of its own for one suite: a temp SQLite directory or a fresh PostgreSQL database. */
export interface TestDatabase {
  env: Record<string, string>;
  /** Admin connection URL for the suite's PostgreSQL database (postgres only). */
  databaseUrl?: string;
  databaseName?: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(dialect: Dialect): Promise<TestDatabase> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'cc-test-'));
    return { env: { DATA_DIR: dir }, drop: () => Promise.resolve(rmSync(dir, { recursive: true, force: true })) };
  }
  const base = process.env.TEST_DATABASE_URL;
  if (!base) throw new Error('TEST_DATABASE_URL is not set');
  const name = `cc_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(base, `CREATE DATABASE ${name}`);
  const url = new URL(base);
  url.pathname = `/${name}`;
  const dir = mkdtempSync(join(tmpdir(), 'cc-test-'));
  return {
    env: { DATABASE_URL: url.toString(), DATA_DIR: dir },
    databaseUrl: url.toString(),
    databaseName: name,
    drop: async () => {
      rmSync(dir, { recursive: true, force: true });
      await adminQuery(base, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

/** Runs one statement on the server named by TEST_DATABASE_URL (database-level DDL). */
export async function adminQuery(baseUrl: string, sql: string): Promise<void> {
  const client = new Client({ connectionString: baseUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
