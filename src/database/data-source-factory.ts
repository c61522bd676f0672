import { accessSync, constants, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { StartupError } from '../common/errors/startup-error.js';

/**
 * Opens the store and runs pending migrations, turning the usual failures (unwritable data
 * directory, unreachable PostgreSQL, failed migration) into one readable StartupError.
 */
export async function openDataSource(options: DataSourceOptions): Promise<DataSource> {
  if (options.type === 'better-sqlite3') ensureWritableDirectory(resolve(String(options.database), '..'));
  const dataSource = new DataSource(options);
  try {
    await dataSource.initialize();
    return dataSource;
  } catch (err) {
    if (dataSource.isInitialized) await dataSource.destroy().catch(() => undefined);
    throw new StartupError(describeFailure(options, err));
  }
}

function ensureWritableDirectory(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
    const probe = join(dir, `.write-test-${process.pid}`);
    writeFileSync(probe, '');
    rmSync(probe);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new StartupError(`Data directory ${dir} is not writable (${code}); set DATA_DIR to a writable directory`);
  }
}

function describeFailure(options: DataSourceOptions, err: unknown): string {
  const reason = (err as Error)?.message ?? String(err);
  const code = (err as NodeJS.ErrnoException)?.code;
  if (options.type === 'postgres') {
    const target = describePostgresTarget(String(options.url ?? ''));
    const isMigration = /migration/i.test(reason) || (err as { query?: string })?.query !== undefined;
    if (isMigration) return `Database migration failed on PostgreSQL ${target}: ${reason}`;
    return `Cannot connect to PostgreSQL at ${target}: ${code ? `${code} ` : ''}${reason}`.trim();
  }
  return `Cannot open SQLite database ${String(options.database)}: ${reason}`;
}

/** host:port/database, never the password. */
export function describePostgresTarget(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '5432'}${u.pathname}`;
  } catch {
    return '(unparseable DATABASE_URL)';
  }
}
