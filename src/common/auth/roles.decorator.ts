import { applyDecorators, SetMetadata } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiExtension,
  ApiForbiddenResponse,
  ApiSecurity,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { ErrorResponseDto } from '../errors/error-response.dto.js';
import type { Role } from './identity.js';

export const ROLES_KEY = 'command-center:roles';
export const PUBLIC_KEY = 'command-center:public';

export const ROLES_SECURITY = 'roles';
export const TENANT_SECURITY = 'tenant';
export const PROXY_SECURITY = 'proxy_secret';

/**
 * Requires any one of the given roles (`admin` includes `operator`). Also documents the identity
 * headers and the 400/401/403/429 answers in OpenAPI, so the docs cannot drift from the guard.
 */
export function Roles(...roles: [Role, ...Role[]]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    SetMetadata(ROLES_KEY, roles),
    // One requirement naming all identity headers, so Swagger UI's Authorize sends each that is set.
    ApiSecurity({ [ROLES_SECURITY]: [], [TENANT_SECURITY]: [], [PROXY_SECURITY]: [] }),
    ApiExtension('x-required-roles', roles),
    ApiBadRequestResponse({ description: 'Invalid request or X-User-Tenant header', type: ErrorResponseDto }),
    ApiUnauthorizedResponse({
      description: 'AUTH_PROXY_SECRET is set and X-Auth-Proxy-Secret is missing or wrong',
      type: ErrorResponseDto,
    }),
    ApiForbiddenResponse({
      description: `Missing or invalid X-User-Roles header, or a role other than ${roles.join(' / ')}`,
      type: ErrorResponseDto,
    }),
    ApiTooManyRequestsResponse({ description: 'Rate limit exceeded; see Retry-After', type: ErrorResponseDto }),
  );
}

/** Open to anyone: health, readiness, discovery, metrics. */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(PUBLIC_KEY, true);
