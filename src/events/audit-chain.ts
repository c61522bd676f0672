import { createHash } from 'node:crypto';
import type { StoredEvent } from './event.types.js';

/** JSON with object keys sorted at every level: the same value always gives the same text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.keys(value)
    .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
  return `{${entries.join(',')}}`;
}

/** A link of the audit chain: SHA-256 over the previous link's hash and the event's content. */
export function linkHash(prevHash: string | null, event: Omit<StoredEvent, 'prev_hash' | 'hash'>): string {
  const content = canonicalJson({
    id: event.id,
    type: event.type,
    severity: event.severity,
    tenant_id: event.tenant_id,
    subject: event.subject,
    actor: event.actor,
    data: event.data,
    created_at: event.created_at,
  });
  return createHash('sha256')
    .update(prevHash ?? '')
    .update('\n')
    .update(content)
    .digest('hex');
}

export function isAuditType(type: string): boolean {
  return type.startsWith('audit.');
}
