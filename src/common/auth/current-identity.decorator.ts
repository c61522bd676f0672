import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import type { Identity } from './identity.js';
import { TenantScope } from './tenant-scope.js';

type IdentityRequest = Request & { identity?: Identity | null };

function identityOf(context: ExecutionContext): Identity {
  const identity = context.switchToHttp().getRequest<IdentityRequest>().identity;
  if (!identity) throw new Error('CurrentIdentity used on a route without @Roles()');
  return identity;
}

/** The caller's Identity, as resolved by RolesGuard. Only on @Roles() routes. */
export const CurrentIdentity = createParamDecorator((_: unknown, context: ExecutionContext) => identityOf(context));

/** The caller's TenantScope, as resolved by RolesGuard. Only on @Roles() routes. */
export const CurrentScope = createParamDecorator((_: unknown, context: ExecutionContext) =>
  TenantScope.of(identityOf(context)),
);
