import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentScope } from '../common/auth/current-identity.decorator.js';
import { Roles } from '../common/auth/roles.decorator.js';
import type { TenantScope } from '../common/auth/tenant-scope.js';
import { ErrorResponseDto } from '../common/errors/error-response.dto.js';
import {
  OverviewView,
  SummaryQueryDto,
  SummaryView,
  TenantParamDto,
  TimeseriesQueryDto,
  TimeseriesView,
} from './dto/tenant-analytics.dto.js';
import { DeliveryOverviewService } from './delivery-overview.service.js';
import { TenantAnalyticsService } from './tenant-analytics.service.js';

@ApiTags('tenant analytics')
@Controller('tenant_analytics')
export class TenantAnalyticsController {
  constructor(
    private readonly analytics: TenantAnalyticsService,
    private readonly overviews: DeliveryOverviewService,
  ) {}

  @Get('overview')
  @Roles('operator')
  @ApiOperation({
    summary: 'The last hour across the tenants in scope: 5-minute buckets of deliveries and attempts, and the queue',
  })
  @ApiOkResponse({ type: OverviewView })
  overview(@CurrentScope() scope: TenantScope): Promise<OverviewView> {
    return this.overviews.lastHour(scope);
  }

  @Get('summary')
  @Roles('operator')
  @ApiOperation({ summary: 'Every tenant’s health score and its parts over a window (1h, 24h or 7d), worst first' })
  @ApiOkResponse({ type: SummaryView })
  summary(@Query() query: SummaryQueryDto, @CurrentScope() scope: TenantScope): Promise<SummaryView> {
    return this.analytics.summary(query.window, scope, query.tenant_id);
  }

  @Get(':tenant_id/timeseries')
  @Roles('operator')
  @ApiOperation({ summary: 'One tenant’s signal over a window, bucket by bucket, for a chart' })
  @ApiOkResponse({ type: TimeseriesView })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  timeseries(
    @Param() params: TenantParamDto,
    @Query() query: TimeseriesQueryDto,
    @CurrentScope() scope: TenantScope,
  ): Promise<TimeseriesView> {
    return this.analytics.timeseries(params.tenant_id, query.signal, query.window, scope);
  }
}
