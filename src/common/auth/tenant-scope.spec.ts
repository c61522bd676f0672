import { ForbiddenException, NotFoundException } from '@nestjs/common';
import { TenantScope } from './tenant-scope.js';

describe('TenantScope', () => {
  const scoped = TenantScope.of({ roles: ['operator'], tenantId: 'acme' });
  const admin = TenantScope.of({ roles: ['admin'], tenantId: 'acme' });
  const unscoped = TenantScope.of({ roles: ['operator'], tenantId: null });

  it('confines a non-admin with a tenant, and no one else', () => {
    expect(scoped.isScoped).toBe(true);
    expect(admin.isScoped).toBe(false);
    expect(unscoped.isScoped).toBe(false);
    expect(TenantScope.unscoped().isScoped).toBe(false);
  });

  it('narrows list filters to the caller tenant', () => {
    expect(scoped.filter('globex')).toBe('acme');
    expect(scoped.filter(undefined)).toBe('acme');
    expect(admin.filter('globex')).toBe('globex');
    expect(unscoped.filter(undefined)).toBeUndefined();
  });

  it('hides other tenants objects as 404', () => {
    expect(() => scoped.assertVisible('acme')).not.toThrow();
    expect(() => scoped.assertVisible('globex', 'Delivery not found')).toThrow(
      new NotFoundException('Delivery not found'),
    );
    expect(() => admin.assertVisible('globex')).not.toThrow();
  });

  it('refuses acting for another tenant with 403', () => {
    expect(() => scoped.assertCanActFor('globex')).toThrow(ForbiddenException);
    expect(() => scoped.assertCanActFor('acme')).not.toThrow();
    expect(() => unscoped.assertCanActFor('globex')).not.toThrow();
  });
});
