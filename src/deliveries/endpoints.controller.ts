import { Body, Controller, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
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
import { EndpointControlService } from './endpoint-control.service.js';
import { PauseEndpointDto } from './dto/endpoint-actions.dto.js';

@ApiTags('endpoints')
@Controller('alerts/endpoints')
export class EndpointsController {
  constructor(
    private readonly endpoints: EndpointsService,
    private readonly control: EndpointControlService,
  ) {}

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

  @Post(':id/pause')
  @HttpCode(200)
  @Roles('admin')
  @AuditAction('endpoint.pause')
  @ApiOperation({ summary: 'Stop sending to the endpoint (deliveries wait; no attempts are spent)' })
  @ApiOkResponse({ type: EndpointView })
  pause(
    @Param('id') id: string,
    @Body() body: PauseEndpointDto,
    @CurrentScope() scope: TenantScope,
    @CurrentActor() actor: Actor,
  ): Promise<EndpointView> {
    return this.control.pause(id, body.until ? new Date(body.until) : null, body.reason, scope, actor);
  }

  @Post(':id/resume')
  @HttpCode(200)
  @Roles('admin')
  @AuditAction('endpoint.resume')
  @ApiOperation({ summary: 'Send to a paused endpoint again' })
  @ApiOkResponse({ type: EndpointView })
  resume(
    @Param('id') id: string,
    @CurrentScope() scope: TenantScope,
    @CurrentActor() actor: Actor,
  ): Promise<EndpointView> {
    return this.control.resume(id, scope, actor);
  }

  @Post(':id/enable')
  @HttpCode(200)
  @Roles('admin')
  @AuditAction('endpoint.enable')
  @ApiOperation({ summary: 'Re-enable a disabled endpoint (e.g. after a 410)' })
  @ApiOkResponse({ type: EndpointView })
  enable(
    @Param('id') id: string,
    @CurrentScope() scope: TenantScope,
    @CurrentActor() actor: Actor,
  ): Promise<EndpointView> {
    return this.control.enable(id, scope, actor);
  }

  @Post(':id/rotate_secret')
  @HttpCode(200)
  @Roles('admin')
  @AuditAction('endpoint.rotate_secret')
  @ApiOperation({ summary: 'New signing secret (returned once); the old one keeps signing alongside for 24 h' })
  @ApiOkResponse({ type: EndpointView })
  rotateSecret(
    @Param('id') id: string,
    @CurrentScope() scope: TenantScope,
    @CurrentActor() actor: Actor,
  ): Promise<EndpointView> {
    return this.control.rotateSecret(id, scope, actor);
  }

  @Get(':id')
  @Roles('operator')
  @ApiOkResponse({ type: EndpointView })
  get(@Param('id') id: string, @CurrentScope() scope: TenantScope): Promise<EndpointView> {
    return this.endpoints.get(id, scope);
  }
}
