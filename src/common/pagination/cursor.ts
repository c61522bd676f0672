import { BadRequestException } from '@nestjs/common';

/** Opaque keyset cursors: callers pass back what they were given, nothing else. */
export function encodeCursor(id: number): string {
  return Buffer.from(JSON.stringify({ id }), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string | undefined): number | undefined {
  if (cursor === undefined) return undefined;
  try {
    const { id } = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { id?: unknown };
    if (typeof id === 'number' && Number.isSafeInteger(id) && id > 0) return id;
  } catch {
    // fall through
  }
  throw new BadRequestException('Invalid cursor: pass back the next_cursor of a previous page');
}

/** A position in a list ordered by (created_at, id), newest first. */
export interface Keyset {
  createdAt: Date;
  id: string;
}

export function encodeKeyset(position: Keyset): string {
  return Buffer.from(JSON.stringify({ t: position.createdAt.toISOString(), id: position.id }), 'utf8').toString(
    'base64url',
  );
}

export function decodeKeyset(cursor: string | undefined): Keyset | undefined {
  if (cursor === undefined) return undefined;
  try {
    const { t, id } = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { t?: unknown; id?: unknown };
    const createdAt = typeof t === 'string' ? new Date(t) : undefined;
    // Only what a row holds: a created_at in years 1-9999 (PostgreSQL refuses dates before 4713 BC)
    // and an id without NUL (PostgreSQL refuses it in text): anything else fails the query as a 500.
    const year = createdAt?.getUTCFullYear() ?? NaN;
    if (createdAt && year >= 1 && year <= 9999 && typeof id === 'string' && id.length <= 64 && !id.includes('\u0000')) {
      return { createdAt, id };
    }
  } catch {
    // fall through
  }
  throw new BadRequestException('Invalid cursor: pass back the next_cursor of a previous page');
}
