import { SetMetadata } from '@nestjs/common';
import type { Request } from 'express';

/**
 * Implemented by the audit trail: RolesGuard reports every refused attempt at a state-changing
 * route through it, so denials are audited without the guard knowing about events.
 */
export const ACCESS_DENIED_RECORDER = Symbol('ACCESS_DENIED_RECORDER');

export interface AccessDeniedRecorder {
  recordDenied(req: Request, action: string, reason: string): Promise<void>;
}

export const AUDIT_ACTION_KEY = 'command-center:audit-action';

/** Names the action a state-changing route performs in the audit trail (`delivery.replay`). */
export const AuditAction = (action: string): MethodDecorator => SetMetadata(AUDIT_ACTION_KEY, action);

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function isStateChanging(method: string): boolean {
  return !READ_METHODS.has(method.toUpperCase());
}
