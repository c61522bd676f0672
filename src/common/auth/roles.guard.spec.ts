import {
  ExecutionContext,
  ForbiddenException,
  InternalServerErrorException,
  UnauthorizedException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { loadConfig } from '../../config/app-config.js';
import type { AccessDeniedRecorder } from './access-denied.js';
import { IdentityResolver } from './identity-resolver.js';
import { Public, Roles } from './roles.decorator.js';
import { RolesGuard } from './roles.guard.js';

class Handlers {
  @Roles('admin')
  admin() {}

  @Roles('operator')
  operator() {}

  @Public()
  open() {}

  none() {}
}

function contextFor(handler: keyof Handlers, headers: Record<string, string>): ExecutionContext {
  const req = { headers, method: 'GET' };
  return {
    getHandler: () => Handlers.prototype[handler],
    getClass: () => Handlers,
    switchToHttp: () => ({ getRequest: () => req }),
  } as unknown as ExecutionContext;
}

/** The guard answers synchronously unless it records a refusal; tests see both as a promise. */
const activate = (guard: RolesGuard, context: ExecutionContext) =>
  Promise.resolve().then(() => guard.canActivate(context));

describe('RolesGuard', () => {
  const guard = new RolesGuard(new Reflector(), new IdentityResolver(loadConfig({})));
  const proxied = new RolesGuard(
    new Reflector(),
    new IdentityResolver(loadConfig({ AUTH_PROXY_SECRET: 'a-long-proxy-secret' })),
  );

  it('answers an allowed request synchronously (no promise on the hot path)', () => {
    expect(guard.canActivate(contextFor('operator', { 'x-user-roles': 'operator' }))).toBe(true);
    expect(guard.canActivate(contextFor('open', {}))).toBe(true);
  });

  it('lets public routes through without identity', async () => {
    await expect(activate(guard, contextFor('open', {}))).resolves.toBe(true);
  });

  it('requires a known role', async () => {
    await expect(activate(guard, contextFor('operator', {}))).rejects.toThrow(
      new ForbiddenException('Missing or invalid X-User-Roles header'),
    );
    await expect(activate(guard, contextFor('operator', { 'x-user-roles': 'nobody' }))).rejects.toThrow(
      ForbiddenException,
    );
  });

  it('names the missing role', async () => {
    await expect(activate(guard, contextFor('admin', { 'x-user-roles': 'operator' }))).rejects.toThrow(
      new ForbiddenException('Requires role: admin'),
    );
    await expect(activate(guard, contextFor('operator', { 'x-user-roles': 'admin' }))).resolves.toBe(true);
  });

  it('fails closed on a route without roles', async () => {
    await expect(activate(guard, contextFor('none', { 'x-user-roles': 'admin' }))).rejects.toThrow(
      InternalServerErrorException,
    );
  });

  it('requires the proxy secret when one is configured', async () => {
    await expect(activate(proxied, contextFor('operator', { 'x-user-roles': 'operator' }))).rejects.toThrow(
      UnauthorizedException,
    );
    await expect(
      activate(
        proxied,
        contextFor('operator', { 'x-user-roles': 'operator', 'x-auth-proxy-secret': 'a-long-proxy-secret' }),
      ),
    ).resolves.toBe(true);
  });

  it('reports refused attempts at state-changing routes, and only those', async () => {
    const denied: string[] = [];
    const recorder: AccessDeniedRecorder = {
      recordDenied: (req, action, reason) => {
        denied.push(`${req.method} ${action}: ${reason}`);
        return Promise.resolve();
      },
    };
    const audited = new RolesGuard(new Reflector(), new IdentityResolver(loadConfig({})), recorder);
    const post = (handler: keyof Handlers, headers: Record<string, string>) => {
      const ctx = contextFor(handler, headers);
      ctx.switchToHttp().getRequest<{ method: string }>().method = 'POST';
      return ctx;
    };
    await expect(activate(audited, post('admin', { 'x-user-roles': 'operator' }))).rejects.toThrow(ForbiddenException);
    await expect(activate(audited, contextFor('admin', { 'x-user-roles': 'operator' }))).rejects.toThrow(
      ForbiddenException,
    );
    await expect(activate(audited, post('admin', { 'x-user-roles': 'admin' }))).resolves.toBe(true);
    expect(denied).toEqual(['POST Handlers.admin: Requires role: admin']);
  });
});
