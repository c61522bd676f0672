import { ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  ThrottlerException,
  ThrottlerGuard,
  type ThrottlerLimitDetail,
  type ThrottlerModuleOptions,
  type ThrottlerStorage,
} from '@nestjs/throttler';
import type { Request } from 'express';
import { AppConfig } from '../../config/app-config.js';
import { IdentityResolver } from '../auth/identity-resolver.js';

/**
 * Rate limit per caller: tenant + roles when the identity headers are valid, the client IP
 * otherwise. Answers 429 with Retry-After and a `detail`.
 */
@Injectable()
export class CallerThrottlerGuard extends ThrottlerGuard {
  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    reflector: Reflector,
    private readonly config: AppConfig,
    private readonly identities: IdentityResolver,
  ) {
    super(options, storage, reflector);
  }

  protected override shouldSkip(): Promise<boolean> {
    return Promise.resolve(this.config.RATE_LIMIT_PER_MINUTE === 0);
  }

  protected override getTracker(req: Record<string, unknown>): Promise<string> {
    const request = req as unknown as Request;
    const identity = this.identities.peek(request);
    if (identity)
      return Promise.resolve(`tenant:${identity.tenantId ?? '*'}|roles:${[...identity.roles].sort().join(',')}`);
    return Promise.resolve(`ip:${request.ip ?? 'unknown'}`);
  }

  /** One budget per caller across all routes (the library default is one per route). */
  protected override generateKey(_context: ExecutionContext, tracker: string, throttlerName: string): string {
    return `${throttlerName}:${tracker}`;
  }

  protected override throwThrottlingException(_context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    const seconds = Math.max(1, Math.ceil(detail.timeToBlockExpire));
    throw new ThrottlerException(`Rate limit exceeded: ${detail.limit} requests per minute; retry in ${seconds} s`);
  }
}
