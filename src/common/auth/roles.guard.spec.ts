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

describe('RolesGuard', () => {
  const guard = new RolesGuard(new Reflector(), new IdentityResolver(loadConfig({})));
  const proxied = new RolesGuard(
    new Reflector(),
    new IdentityResolver(loadConfig({ AUTH_PROXY_SECRET: 'a-long-proxy-secret' })),
  );

  it('lets public routes through without identity', async () => {
    await expect(guard.canActivate(contextFor('open', {}))).resolves.toBe(true);
  });

  it('requires a known role', async () => {
    await expect(guard.canActivate(contextFor('operator', {}))).rejects.toThrow(
      new ForbiddenException('Missing or invalid X-User-Roles header'),
    );
    await expect(guard.canActivate(contextFor('operator', { 'x-user-roles': 'nobody' }))).rejects.toThrow(
      ForbiddenException,
    );
  });

  it('names the missing role', async () => {
    await expect(guard.canActivate(contextFor('admin', { 'x-user-roles': 'operator' }))).rejects.toThrow(
      new ForbiddenException('Requires role: admin'),
    );
    await expect(guard.canActivate(contextFor('operator', { 'x-user-roles': 'admin' }))).resolves.toBe(true);
  });

  it('fails closed on a route without roles', async () => {
    await expect(guard.canActivate(contextFor('none', { 'x-user-roles': 'admin' }))).rejects.toThrow(
      InternalServerErrorException,
    );
  });

  it('requires the proxy secret when one is configured', async () => {
    await expect(proxied.canActivate(contextFor('operator', { 'x-user-roles': 'operator' }))).rejects.toThrow(
      UnauthorizedException,
    );
    await expect(
      proxied.canActivate(
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
    await expect(audited.canActivate(post('admin', { 'x-user-roles': 'operator' }))).rejects.toThrow(
      ForbiddenException,
    );
    await expect(audited.canActivate(contextFor('admin', { 'x-user-roles': 'operator' }))).rejects.toThrow(
      ForbiddenException,
    );
    await expect(audited.canActivate(post('admin', { 'x-user-roles': 'admin' }))).resolves.toBe(true);
    expect(denied).toEqual(['POST Handlers.admin: Requires role: admin']);
  });
});
