export type Dialect = 'sqlite' | 'postgres';

let explained = false;

/** The stores every e2e suite runs against: SQLite always, PostgreSQL when TEST_DATABASE_URL is set. */
export function testDialects(): Dialect[] {
  if (process.env.TEST_DATABASE_URL) return ['sqlite', 'postgres'];
  if (!explained) {
    explained = true;
    process.stdout.write('PostgreSQL suites skipped: set TEST_DATABASE_URL=postgres://... to run them too\n');
  }
  return ['sqlite'];
}

/** PostgreSQL-only cases: `describeIfPostgres(...)` skips with a printed reason otherwise. */
export function postgresAvailable(): boolean {
  return Boolean(process.env.TEST_DATABASE_URL);
}
