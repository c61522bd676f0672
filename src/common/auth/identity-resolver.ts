import { BadRequestException, Injectable, UnauthorizedException } from '@nestjs/common';
import type { Request } from 'express';
import { AppConfig } from '../../config/app-config.js';
import {
  Identity,
  PROXY_SECRET_HEADER,
  ROLES_HEADER,
  TENANT_HEADER,
  parseRoles,
  parseTenant,
  secretMatches,
} from './identity.js';

export const PROXY_SECRET_DETAIL = 'Missing or invalid X-Auth-Proxy-Secret header';
export const INVALID_TENANT_DETAIL =
  'Invalid X-User-Tenant header: 1-128 characters of letters, digits, ".", "_", ":" or "-"';

type IdentityRequest = Request & { identity?: Identity | null };

/**
 * Turns request headers into an Identity, once per request. With AUTH_PROXY_SECRET set the
 * identity headers count only on requests that carry the matching X-Auth-Proxy-Secret.
 */
@Injectable()
export class IdentityResolver {
  constructor(private readonly config: AppConfig) {}

  /** The caller's identity, or null when the roles header names no known role. */
  resolve(req: Request): Identity | null {
    const r = req as IdentityRequest;
    if (r.identity !== undefined) return r.identity;
    this.assertProxySecret(req);
    const roles = parseRoles(req.headers[ROLES_HEADER]);
    const tenant = parseTenant(req.headers[TENANT_HEADER]);
    if (tenant === null) throw new BadRequestException(INVALID_TENANT_DETAIL);
    r.identity = roles.length > 0 ? { roles, tenantId: tenant ?? null } : null;
    return r.identity;
  }

  /** Like resolve, but never throws: used to key rate limits and logs. */
  peek(req: Request): Identity | null {
    try {
      return this.resolve(req);
    } catch {
      return null;
    }
  }

  private assertProxySecret(req: Request): void {
    const secret = this.config.AUTH_PROXY_SECRET;
    if (secret && !secretMatches(req.headers[PROXY_SECRET_HEADER], secret)) {
      throw new UnauthorizedException(PROXY_SECRET_DETAIL);
    }
  }
}
