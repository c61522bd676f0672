import { ForbiddenException, NotFoundException } from '@nestjs/common';
import { Identity, isAdmin } from './identity.js';

/**
 * What part of the tenant space a caller may see and touch. Admins and callers without
 * X-User-Tenant are unscoped; anyone else is confined to their tenant. Every module applies
 * it the same way: list filters are narrowed, other tenants' objects are 404 (never 403, so
 * existence does not leak), and writes for another tenant are refused.
 */
export class TenantScope {
  private constructor(readonly tenantId: string | null) {}

  static of(identity: Identity): TenantScope {
    return new TenantScope(isAdmin(identity) ? null : identity.tenantId);
  }

  static unscoped(): TenantScope {
    return new TenantScope(null);
  }

  get isScoped(): boolean {
    return this.tenantId !== null;
  }

  /** The tenant filter a list query should use: a scoped caller always gets their own tenant. */
  filter(requested?: string | null): string | undefined {
    return this.tenantId ?? requested ?? undefined;
  }

  canSee(tenantId: string): boolean {
    return this.tenantId === null || this.tenantId === tenantId;
  }

  /** Throws 404 with `detail` when the object belongs to a tenant outside the scope. */
  assertVisible(tenantId: string, detail = 'Not Found'): void {
    if (!this.canSee(tenantId)) throw new NotFoundException(detail);
  }

  /** Throws 403 when a scoped caller tries to act for another tenant (e.g. submit a delivery). */
  assertCanActFor(tenantId: string): void {
    if (!this.canSee(tenantId)) {
      throw new ForbiddenException(`Tenant-scoped caller may only act for tenant ${this.tenantId}`);
    }
  }
}
