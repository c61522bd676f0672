import {
  ExecutionContext,
  ForbiddenException,
  InternalServerErrorException,
  UnauthorizedException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { loadConfig } from '../../config/app-config.js';
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
  const req = { headers };
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

  it('lets public routes through without identity', () => {
    expect(guard.canActivate(contextFor('open', {}))).toBe(true);
  });

  it('requires a known role', () => {
    expect(() => guard.canActivate(contextFor('operator', {}))).toThrow(
      new ForbiddenException('Missing or invalid X-User-Roles header'),
    );
    expect(() => guard.canActivate(contextFor('operator', { 'x-user-roles': 'nobody' }))).toThrow(ForbiddenException);
  });

  it('names the missing role', () => {
    expect(() => guard.canActivate(contextFor('admin', { 'x-user-roles': 'operator' }))).toThrow(
      new ForbiddenException('Requires role: admin'),
    );
    expect(guard.canActivate(contextFor('operator', { 'x-user-roles': 'admin' }))).toBe(true);
  });

  it('fails closed on a route without roles', () => {
    expect(() => guard.canActivate(contextFor('none', { 'x-user-roles': 'admin' }))).toThrow(
      InternalServerErrorException,
    );
  });

  it('requires the proxy secret when one is configured', () => {
    expect(() => proxied.canActivate(contextFor('operator', { 'x-user-roles': 'operator' }))).toThrow(
      UnauthorizedException,
    );
    expect(
      proxied.canActivate(
        contextFor('operator', { 'x-user-roles': 'operator', 'x-auth-proxy-secret': 'a-long-proxy-secret' }),
      ),
    ).toBe(true);
  });
});
