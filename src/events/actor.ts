import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { parseRoles, parseTenant, ROLES_HEADER, TENANT_HEADER, type Identity } from '../common/auth/identity.js';
import type { Actor } from './event.types.js';

type IdentifiedRequest = Request & { id?: string; identity?: Identity | null };

/**
 * The person behind a request, as the audit trail records them. For a refused request the roles
 * and tenant are the ones it claimed (known roles only).
 */
export function actorFromRequest(req: Request): Actor {
  const r = req as IdentifiedRequest;
  const identity = r.identity;
  const userAgent = req.headers['user-agent'];
  return {
    type: 'user',
    roles: identity ? identity.roles : parseRoles(req.headers[ROLES_HEADER]),
    tenant_id: (identity ? identity.tenantId : parseTenant(req.headers[TENANT_HEADER])) ?? null,
    ip: req.ip ?? null,
    user_agent: typeof userAgent === 'string' ? userAgent.slice(0, 256) : null,
    request_id: r.id ?? null,
  };
}

/** The request's Actor, for handlers that change state. */
export const CurrentActor = createParamDecorator((_: unknown, context: ExecutionContext) =>
  actorFromRequest(context.switchToHttp().getRequest<Request>()),
);

/** A short label for who did something, e.g. `user:admin` or `rule:<id>`, for `created_by`-style columns. */
export function describeActor(actor: Actor): string {
  if (actor.type === 'rule') return `rule:${actor.rule_id ?? 'unknown'}`;
  return `${actor.type}:${actor.roles.join('+') || 'anonymous'}`;
}
