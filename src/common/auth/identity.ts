import { timingSafeEqual, createHash } from 'node:crypto';

export const ROLES = ['operator', 'admin', 'ingest'] as const;
export type Role = (typeof ROLES)[number];

export const ROLES_HEADER = 'x-user-roles';
export const TENANT_HEADER = 'x-user-tenant';
export const PROXY_SECRET_HEADER = 'x-auth-proxy-secret';

export const MISSING_ROLES_DETAIL = 'Missing or invalid X-User-Roles header';

/** Who is calling, as asserted by the identity headers. */
export interface Identity {
  /** Known roles only, lower-case, deduplicated, in header order. */
  roles: Role[];
  /** The tenant a non-admin is confined to; null when unscoped. */
  tenantId: string | null;
}

/** `admin` includes everything `operator` may do. */
const IMPLIED: Record<Role, Role[]> = { admin: ['admin', 'operator'], operator: ['operator'], ingest: ['ingest'] };

const TENANT_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** Parses `X-User-Roles`: comma-separated, trimmed, case-insensitive; unknown roles ignored. */
export function parseRoles(header: string | string[] | undefined): Role[] {
  const value = Array.isArray(header) ? header.join(',') : header;
  if (!value) return [];
  const roles: Role[] = [];
  for (const part of value.split(',')) {
    const role = part.trim().toLowerCase();
    if ((ROLES as readonly string[]).includes(role) && !roles.includes(role as Role)) roles.push(role as Role);
  }
  return roles;
}

/** Parses `X-User-Tenant`; undefined when absent, null when present but malformed. */
export function parseTenant(header: string | string[] | undefined): string | undefined | null {
  if (header === undefined) return undefined;
  const value = (Array.isArray(header) ? header[0] : header).trim();
  if (value === '') return undefined;
  return TENANT_ID.test(value) ? value : null;
}

export function hasRole(identity: Identity, required: Role): boolean {
  return identity.roles.some((role) => IMPLIED[role].includes(required));
}

export function isAdmin(identity: Identity): boolean {
  return identity.roles.includes('admin');
}

/** Constant-time comparison that does not leak the secret's length. */
export function secretMatches(given: string | string[] | undefined, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
