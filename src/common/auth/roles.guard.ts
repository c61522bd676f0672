import {
  CanActivate,
  ExecutionContext,
  ForbiddenException,
  HttpException,
  Inject,
  Injectable,
  InternalServerErrorException,
  Logger,
  Optional,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import {
  ACCESS_DENIED_RECORDER,
  AUDIT_ACTION_KEY,
  isStateChanging,
  type AccessDeniedRecorder,
} from './access-denied.js';
import { IdentityResolver } from './identity-resolver.js';
import { MISSING_ROLES_DETAIL, Role, hasRole } from './identity.js';
import { PUBLIC_KEY, ROLES_KEY } from './roles.decorator.js';

/**
 * Global guard: every route is closed unless it is @Public() or names its roles with @Roles().
 * A route with neither is a programming error and answers 500 rather than opening up. A refused
 * attempt at a state-changing route is recorded in the audit trail.
 */
@Injectable()
export class RolesGuard implements CanActivate {
  private readonly logger = new Logger(RolesGuard.name);

  constructor(
    private readonly reflector: Reflector,
    private readonly identities: IdentityResolver,
    @Optional() @Inject(ACCESS_DENIED_RECORDER) private readonly denials?: AccessDeniedRecorder,
  ) {}

  /** Synchronous unless a refusal has to be recorded first. */
  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;
    const required = this.reflector.getAllAndOverride<Role[]>(ROLES_KEY, targets);
    if (!required) {
      throw new InternalServerErrorException(
        `Route ${context.getClass().name}.${context.getHandler().name} declares no roles`,
      );
    }
    const req = context.switchToHttp().getRequest<Request>();
    try {
      this.authorize(req, required);
      return true;
    } catch (err) {
      if (this.denials && err instanceof HttpException && isStateChanging(req.method)) {
        return this.recordDenied(context, req, err).then(() => Promise.reject(err));
      }
      throw err;
    }
  }

  private authorize(req: Request, required: Role[]): void {
    const identity = this.identities.resolve(req);
    if (!identity) throw new ForbiddenException(MISSING_ROLES_DETAIL);
    if (!required.some((role) => hasRole(identity, role))) {
      throw new ForbiddenException(`Requires role: ${required.join(' or ')}`);
    }
  }

  private async recordDenied(context: ExecutionContext, req: Request, err: HttpException): Promise<void> {
    if (!this.denials) return;
    const action =
      this.reflector.get<string | undefined>(AUDIT_ACTION_KEY, context.getHandler()) ??
      `${context.getClass().name}.${context.getHandler().name}`;
    try {
      await this.denials.recordDenied(req, action, err.message);
    } catch (auditErr) {
      this.logger.error({ err: auditErr }, 'could not record a denied attempt in the audit trail');
    }
  }
}
