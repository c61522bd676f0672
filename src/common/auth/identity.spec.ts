import { hasRole, parseRoles, parseTenant, secretMatches } from './identity.js';

describe('parseRoles', () => {
  it.each([
    [undefined, []],
    ['', []],
    [' , ', []],
    ['guest', []],
    ['operator', ['operator']],
    [' ADMIN , Operator ', ['admin', 'operator']],
    ['ingest,ingest', ['ingest']],
    [
      ['operator', 'admin'],
      ['operator', 'admin'],
    ],
  ])('%j → %j', (header, roles) => {
    expect(parseRoles(header)).toEqual(roles);
  });
});

describe('parseTenant', () => {
  it('is undefined when absent or blank, null when malformed', () => {
    expect(parseTenant(undefined)).toBeUndefined();
    expect(parseTenant('  ')).toBeUndefined();
    expect(parseTenant(' acme-corp ')).toBe('acme-corp');
    expect(parseTenant('tenant:eu.1_a')).toBe('tenant:eu.1_a');
    expect(parseTenant('acme corp')).toBeNull();
    expect(parseTenant('-leading-dash')).toBeNull();
    expect(parseTenant('x'.repeat(129))).toBeNull();
  });
});

describe('hasRole', () => {
  const who = (...roles: ('operator' | 'admin' | 'ingest')[]) => ({ roles, tenantId: null });
  it('admin includes operator, nothing includes admin, ingest is separate', () => {
    expect(hasRole(who('admin'), 'operator')).toBe(true);
    expect(hasRole(who('admin'), 'admin')).toBe(true);
    expect(hasRole(who('operator'), 'admin')).toBe(false);
    expect(hasRole(who('ingest'), 'operator')).toBe(false);
    expect(hasRole(who('admin'), 'ingest')).toBe(false);
    expect(hasRole(who('operator', 'ingest'), 'ingest')).toBe(true);
  });
});

describe('secretMatches', () => {
  it('matches only the exact secret', () => {
    expect(secretMatches('s3cret-value-0001', 's3cret-value-0001')).toBe(true);
    expect(secretMatches('s3cret-value-0002', 's3cret-value-0001')).toBe(false);
    expect(secretMatches('s3cret', 's3cret-value-0001')).toBe(false);
    expect(secretMatches(undefined, 's3cret-value-0001')).toBe(false);
    expect(secretMatches(['s3cret-value-0001'], 's3cret-value-0001')).toBe(false);
  });
});
