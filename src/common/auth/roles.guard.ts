import {
  CanActivate,
  ExecutionContext,
  ForbiddenException,
  Injectable,
  InternalServerErrorException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { IdentityResolver } from './identity-resolver.js';
import { MISSING_ROLES_DETAIL, Role, hasRole } from './identity.js';
import { PUBLIC_KEY, ROLES_KEY } from './roles.decorator.js';

/**
 * Global guard: every route is closed unless it is @Public() or names its roles with @Roles().
 * A route with neither is a programming error and answers 500 rather than opening up.
 */
@Injectable()
export class RolesGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly identities: IdentityResolver,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;
    const required = this.reflector.getAllAndOverride<Role[]>(ROLES_KEY, targets);
    if (!required) {
      throw new InternalServerErrorException(
        `Route ${context.getClass().name}.${context.getHandler().name} declares no roles`,
      );
    }
    const identity = this.identities.resolve(context.switchToHttp().getRequest<Request>());
    if (!identity) throw new ForbiddenException(MISSING_ROLES_DETAIL);
    if (!required.some((role) => hasRole(identity, role))) {
      throw new ForbiddenException(`Requires role: ${required.join(' or ')}`);
    }
    return true;
  }
}
