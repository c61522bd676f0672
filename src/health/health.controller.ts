import { Controller, Get, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { SkipThrottle } from '@nestjs/throttler';
import type { Response } from 'express';
import { Public } from '../common/auth/roles.decorator.js';
import { HealthDto, MetaDto, ReadinessDto } from './health.dto.js';
import { MetaService } from './meta.service.js';
import { ReadinessService } from './readiness.service.js';

@ApiTags('health')
@Public()
@Controller()
export class HealthController {
  constructor(
    private readonly readiness: ReadinessService,
    private readonly meta: MetaService,
  ) {}

  @Get('healthz')
  @SkipThrottle()
  @ApiOperation({ summary: 'Liveness: the process is up (never touches the database)' })
  @ApiOkResponse({ type: HealthDto })
  healthz(): HealthDto {
    return { status: 'healthy' };
  }

  @Get('readyz')
  @SkipThrottle()
  @ApiOperation({ summary: 'Readiness: the database answers and the service is not shutting down' })
  @ApiOkResponse({ type: ReadinessDto })
  @ApiServiceUnavailableResponse({ type: ReadinessDto })
  async readyz(@Res({ passthrough: true }) res: Response): Promise<ReadinessDto> {
    const result = await this.readiness.check();
    if (result.status !== 'ready') res.status(503);
    return result;
  }

  @Get('meta')
  @ApiOperation({ summary: 'Version and the features enabled on this instance' })
  @ApiOkResponse({ type: MetaDto })
  getMeta(): MetaDto {
    return this.meta.describe();
  }
}
