import { Body, Controller, Get, Param, Post, Query, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { AuditAction } from '../common/auth/access-denied.js';
import { CurrentScope } from '../common/auth/current-identity.decorator.js';
import { Roles } from '../common/auth/roles.decorator.js';
import type { TenantScope } from '../common/auth/tenant-scope.js';
import { CurrentActor } from '../events/actor.js';
import type { Actor } from '../events/event.types.js';
import { RegisterEndpointDto } from './dto/delivery-inputs.dto.js';
import { EndpointListQueryDto } from './dto/endpoint-query.dto.js';
import { EndpointPageView, EndpointView } from './dto/delivery-views.dto.js';
import { EndpointsService } from './endpoints.service.js';

@ApiTags('endpoints')
@Controller('alerts/endpoints')
export class EndpointsController {
  constructor(private readonly endpoints: EndpointsService) {}

  @Post()
  @Roles('ingest', 'admin')
  @AuditAction('endpoint.register')
  @ApiOperation({ summary: 'Register an endpoint (201, with its secret) or get the existing one (200)' })
  @ApiCreatedResponse({ type: EndpointView })
  @ApiOkResponse({ type: EndpointView })
  async register(
    @Body() body: RegisterEndpointDto,
    @CurrentScope() scope: TenantScope,
    @CurrentActor() actor: Actor,
    @Res({ passthrough: true }) res: Response,
  ): Promise<EndpointView> {
    const { view, created } = await this.endpoints.register(body, scope, actor);
    res.status(created ? 201 : 200);
    return view;
  }

  @Get()
  @Roles('operator')
  @ApiOperation({ summary: 'Endpoints with their state and last 24 h counts, newest first' })
  @ApiQuery({ name: 'tenant_id', required: false })
  @ApiOkResponse({ type: EndpointPageView })
  list(@Query() query: EndpointListQueryDto, @CurrentScope() scope: TenantScope): Promise<EndpointPageView> {
    return this.endpoints.list(scope, query.tenant_id, query.limit, query.cursor);
  }

  @Get(':id')
  @Roles('operator')
  @ApiOkResponse({ type: EndpointView })
  get(@Param('id') id: string, @CurrentScope() scope: TenantScope): Promise<EndpointView> {
    return this.endpoints.get(id, scope);
  }
}
