import { matchesFilter, severitiesAtLeast } from './event-filter.js';
import type { StoredEvent } from './event.types.js';

const event = (over: Partial<StoredEvent>): StoredEvent => ({
  id: 1,
  type: 'delivery.failed',
  severity: 'error',
  tenant_id: 'acme',
  subject: null,
  actor: { type: 'system', roles: [], tenant_id: null },
  data: {},
  created_at: '2026-11-26T12:00:00.000Z',
  prev_hash: null,
  hash: null,
  ...over,
});

describe('matchesFilter', () => {
  it('matches types exactly or by family', () => {
    expect(matchesFilter(event({}), { types: ['delivery.failed'] })).toBe(true);
    expect(matchesFilter(event({}), { types: ['delivery.*'] })).toBe(true);
    expect(matchesFilter(event({}), { types: ['delivery'] })).toBe(false);
    expect(matchesFilter(event({ type: 'deliveryx.failed' }), { types: ['delivery.*'] })).toBe(false);
    expect(matchesFilter(event({}), { types: ['audit.*', 'delivery.failed'] })).toBe(true);
  });

  it('applies tenant, severity and actor role', () => {
    expect(matchesFilter(event({}), { tenantId: 'acme' })).toBe(true);
    expect(matchesFilter(event({ tenant_id: null }), { tenantId: 'acme' })).toBe(false);
    expect(matchesFilter(event({ severity: 'warning' }), { minSeverity: 'error' })).toBe(false);
    expect(matchesFilter(event({ severity: 'critical' }), { minSeverity: 'error' })).toBe(true);
    expect(
      matchesFilter(event({ actor: { type: 'user', roles: ['admin'], tenant_id: null } }), { actorRole: 'admin' }),
    ).toBe(true);
    expect(matchesFilter(event({}), { actorRole: 'admin' })).toBe(false);
  });
});

describe('severitiesAtLeast', () => {
  it('lists the severities at or above the minimum', () => {
    expect(severitiesAtLeast('warning')).toEqual(['warning', 'error', 'critical']);
    expect(severitiesAtLeast('info')).toHaveLength(4);
  });
});
