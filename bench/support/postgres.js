// PostgreSQL plumbing shared by the benchmarks that make a database of their own (bench/autoheal,
// bench/tenant-summary): queries that give up on Ctrl-C, and a database that is dropped at the
// end in every case, even on a second Ctrl-C.
import { spawnSync } from 'node:child_process';
import process from 'node:process';
import pg from 'pg';
import { BenchError, interrupt, log, settlesWithin } from './processes.js';

let created; // { adminUrl, dbName } while the database this run created exists

/** A query that gives up (rejects) on Ctrl-C; the database is then dropped WITH (FORCE). */
export function abortable(promise) {
  promise.catch(() => undefined);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(interrupt.signal.reason);
    if (interrupt.signal.aborted) return onAbort();
    interrupt.signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => interrupt.signal.removeEventListener('abort', onAbort));
  });
}

export async function connect(url) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  client.on('error', () => undefined); // a backend terminated by DROP DATABASE ... WITH (FORCE)
  try {
    await abortable(client.connect());
  } catch (err) {
    if (interrupt.signal.aborted) throw err;
    throw new BenchError(`cannot connect to PostgreSQL at ${url}: ${err.message}`);
  }
  return client;
}

export const closeClient = (client) =>
  client &&
  settlesWithin(
    client.end().catch(() => undefined),
    2_000,
  );

export const query = (db, sql, params) => abortable(db.query(sql, params));

/** Creates the run's database; `dropCreatedDatabase` (or the exit handler) drops it again. */
export async function createDatabase(adminUrl, dbName) {
  const admin = await connect(adminUrl);
  try {
    await query(admin, `CREATE DATABASE ${pg.escapeIdentifier(dbName)}`);
    created = { adminUrl, dbName };
  } finally {
    await closeClient(admin);
  }
  log(`created database ${dbName}`);
}

/** Drops the database `createDatabase` made, if it still exists. */
export async function dropCreatedDatabase() {
  if (!created) return;
  const { adminUrl, dbName } = created;
  let admin;
  try {
    admin = await connect(adminUrl);
    await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(dbName)} WITH (FORCE)`);
    created = undefined;
    log(`dropped database ${dbName}`);
  } catch (err) {
    log(`could not drop database ${dbName}: ${err.message} (drop it by hand)`);
  } finally {
    await closeClient(admin);
  }
}

/** Last resort on paths that skip `finally` (second Ctrl-C): psql, synchronously. */
process.on('exit', () => {
  if (!created) return;
  const { adminUrl, dbName } = created;
  spawnSync('psql', [adminUrl, '-qc', `DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`], {
    stdio: 'ignore',
    timeout: 10_000,
  });
});
