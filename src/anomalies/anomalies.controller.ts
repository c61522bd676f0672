import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiConflictResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuditAction } from '../common/auth/access-denied.js';
import { CurrentScope } from '../common/auth/current-identity.decorator.js';
import { Roles } from '../common/auth/roles.decorator.js';
import type { TenantScope } from '../common/auth/tenant-scope.js';
import { ErrorResponseDto } from '../common/errors/error-response.dto.js';
import { CurrentActor } from '../events/actor.js';
import type { Actor } from '../events/event.types.js';
import { AnomaliesService } from './anomalies.service.js';
import { AnomalyListView, AnomalyQueryDto, AnomalyView, TriageAnomalyDto } from './dto/anomaly.dto.js';

@ApiTags('anomalies')
@Controller('anomalies')
export class AnomaliesController {
  constructor(private readonly anomalies: AnomaliesService) {}

  @Get('current')
  @Roles('operator')
  @ApiOperation({ summary: 'Open and triaged anomalies, newest first (filters: tenant, kind, status)' })
  @ApiOkResponse({ type: AnomalyListView })
  current(@Query() query: AnomalyQueryDto, @CurrentScope() scope: TenantScope): Promise<AnomalyListView> {
    return this.anomalies.current(query, scope);
  }

  @Get(':id')
  @Roles('operator')
  @ApiOperation({ summary: 'One anomaly, in any status' })
  @ApiOkResponse({ type: AnomalyView })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  get(@Param('id') id: string, @CurrentScope() scope: TenantScope): Promise<AnomalyView> {
    return this.anomalies.get(id, scope);
  }

  @Post(':id/triage')
  @HttpCode(200)
  @Roles('operator')
  @AuditAction('anomaly.triage')
  @ApiOperation({
    summary: 'Mark an anomaly triaged, with a note (and optionally who follows it up)',
    description: 'A resolved anomaly is a 409; an unknown one, or another tenant’s, a 404. Audited.',
  })
  @ApiOkResponse({ type: AnomalyView })
  @ApiConflictResponse({ type: ErrorResponseDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  triage(
    @Param('id') id: string,
    @Body() body: TriageAnomalyDto,
    @CurrentScope() scope: TenantScope,
    @CurrentActor() actor: Actor,
  ): Promise<AnomalyView> {
    return this.anomalies.triage(id, body, scope, actor);
  }
}
