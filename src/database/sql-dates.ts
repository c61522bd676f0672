/**
 * Dates in raw SQL. TypeORM stores dates on SQLite as `YYYY-MM-DD HH:MM:SS.SSS` text in UTC, so a
 * raw statement must compare with that text; PostgreSQL takes a Date.
 */
export function sqlDate(dialect: 'postgres' | 'sqlite', date: Date): Date | string {
  return dialect === 'postgres' ? date : date.toISOString().replace('T', ' ').replace('Z', '');
}

/** A date read by a raw statement: a Date (PostgreSQL) or the stored UTC text (SQLite). */
export function readSqlDate(value: unknown): Date {
  if (value instanceof Date) return value;
  const text = String(value);
  return new Date(/Z|[+-]\d\d:?\d\d$/.test(text) ? text : `${text.replace(' ', 'T')}Z`);
}
