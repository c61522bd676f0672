import { canonicalJson, isAuditType, linkHash } from './audit-chain.js';
import type { StoredEvent } from './event.types.js';

const event: Omit<StoredEvent, 'prev_hash' | 'hash'> = {
  id: 7,
  type: 'audit.cooldown.clear',
  severity: 'info',
  tenant_id: 'acme',
  subject: { type: 'endpoint', id: 'e1' },
  actor: { type: 'user', roles: ['admin'], tenant_id: null },
  data: { result: 'success', action: 'cooldown.clear', nested: { b: 1, a: [2, { d: 1, c: 0 }] } },
  created_at: '2026-11-26T12:00:00.000Z',
};

describe('canonicalJson', () => {
  it('sorts keys at every level and drops undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: undefined } })).toBe(
      '{"a":{"d":[3,{"y":2,"z":1}]},"b":1}',
    );
    expect(canonicalJson(null)).toBe('null');
    expect(canonicalJson('x"y')).toBe('"x\\"y"');
  });
});

describe('linkHash', () => {
  it('is stable whatever the key order', () => {
    const reordered = JSON.parse(
      JSON.stringify({
        ...event,
        data: { nested: { a: [2, { c: 0, d: 1 }], b: 1 }, action: 'cooldown.clear', result: 'success' },
      }),
    ) as typeof event;
    expect(linkHash('abc', reordered)).toBe(linkHash('abc', event));
    expect(linkHash('abc', event)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('changes with the previous link and with any field', () => {
    const base = linkHash('abc', event);
    expect(linkHash('abd', event)).not.toBe(base);
    expect(linkHash(null, event)).not.toBe(base);
    expect(linkHash('abc', { ...event, id: 8 })).not.toBe(base);
    expect(linkHash('abc', { ...event, data: { ...event.data, result: 'denied' } })).not.toBe(base);
    expect(linkHash('abc', { ...event, actor: { ...event.actor, roles: ['operator'] } })).not.toBe(base);
  });
});

describe('isAuditType', () => {
  it('recognises audit events', () => {
    expect(isAuditType('audit.delivery.replay')).toBe(true);
    expect(isAuditType('delivery.failed')).toBe(false);
    expect(isAuditType('auditor.x')).toBe(false);
  });
});
