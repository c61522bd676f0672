import { Body, Controller, Get, Module, Param, Post } from '@nestjs/common';
import { Type } from 'class-transformer';
import { IsInt, IsString, Max, MinLength } from 'class-validator';
import { CurrentScope } from '../../src/common/auth/current-identity.decorator.js';
import { Public, Roles } from '../../src/common/auth/roles.decorator.js';
import type { TenantScope } from '../../src/common/auth/tenant-scope.js';

class EchoDto {
  @IsString()
  @MinLength(1)
  name!: string;

  @Type(() => Number)
  @IsInt()
  @Max(10)
  count!: number;
}

/** Test-only routes that exercise the foundation the way feature modules will use it. */
@Controller('probe')
class ProbeController {
  @Get('operator')
  @Roles('operator')
  operator() {
    return { ok: true };
  }

  @Post('admin')
  @Roles('admin')
  admin() {
    return { ok: true };
  }

  @Post('ingest')
  @Roles('ingest', 'admin')
  ingest() {
    return { ok: true };
  }

  @Get('items/:id')
  @Roles('operator')
  item(@Param('id') id: string) {
    return { id };
  }

  @Get('tenants/:tenant')
  @Roles('operator')
  tenant(@Param('tenant') tenant: string, @CurrentScope() scope: TenantScope) {
    scope.assertVisible(tenant, 'Tenant not found');
    return { tenant };
  }

  @Post('echo')
  @Roles('operator')
  echo(@Body() body: EchoDto) {
    return body;
  }

  @Get('boom')
  @Public()
  boom(): never {
    throw new Error('kaboom: internal detail that must not leak');
  }

  @Get('slow')
  @Public()
  async slow() {
    await new Promise((r) => setTimeout(r, 400));
    return { done: true };
  }

  @Get('unguarded')
  unguarded() {
    return { ok: true };
  }
}

@Module({ controllers: [ProbeController] })
export class ProbeModule {}
