import { Body, Controller, Get, Param, Post, Query, Res } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiConflictResponse,
  ApiOkResponse,
  ApiOperation,
  ApiPayloadTooLargeResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { AuditAction } from '../common/auth/access-denied.js';
import { CurrentScope } from '../common/auth/current-identity.decorator.js';
import { Roles } from '../common/auth/roles.decorator.js';
import type { TenantScope } from '../common/auth/tenant-scope.js';
import { ErrorResponseDto } from '../common/errors/error-response.dto.js';
import { DeliveryHistoryService } from './delivery-history.service.js';
import { SubmitBatchDto, SubmitDeliveryDto } from './dto/delivery-inputs.dto.js';
import { BatchResultView, DeliveryDetailView, DeliveryView, HistoryPageView } from './dto/delivery-views.dto.js';
import { HistoryQueryDto } from './dto/history-query.dto.js';
import { IngestService } from './ingest.service.js';
import { ReplayQueryDto } from './dto/replay-query.dto.js';
import { ReplayService } from './replay.service.js';
import { BulkReplayService } from './bulk-replay.service.js';
import { BulkReplayDto, ReplayJobView } from './dto/bulk-replay.dto.js';
import { CurrentActor } from '../events/actor.js';
import type { Actor } from '../events/event.types.js';

@ApiTags('deliveries')
@Controller('alerts/deliveries')
export class DeliveriesController {
  constructor(
    private readonly ingest: IngestService,
    private readonly history: DeliveryHistoryService,
    private readonly replays: ReplayService,
    private readonly bulk: BulkReplayService,
  ) {}

  @Post()
  @Roles('ingest', 'admin')
  @AuditAction('delivery.submit')
  @ApiOperation({
    summary: 'Submit a delivery (202); a repeated idempotency key within 24 h returns the original (200)',
  })
  @ApiAcceptedResponse({ type: DeliveryView })
  @ApiOkResponse({ type: DeliveryView, description: 'The original delivery for a repeated idempotency key' })
  @ApiPayloadTooLargeResponse({ type: ErrorResponseDto })
  async submit(
    @Body() body: SubmitDeliveryDto,
    @CurrentScope() scope: TenantScope,
    @Res({ passthrough: true }) res: Response,
  ): Promise<DeliveryView> {
    const { view, created } = await this.ingest.submit(body, scope);
    res.status(created ? 202 : 200);
    return view;
  }

  @Post('batch')
  @Roles('ingest', 'admin')
  @AuditAction('delivery.submit_batch')
  @ApiOperation({ summary: 'Submit up to 500 deliveries at once: all are accepted, or none' })
  @ApiAcceptedResponse({ type: BatchResultView })
  @ApiPayloadTooLargeResponse({ type: ErrorResponseDto })
  async submitBatch(
    @Body() body: SubmitBatchDto,
    @CurrentScope() scope: TenantScope,
    @Res({ passthrough: true }) res: Response,
  ): Promise<BatchResultView> {
    res.status(202);
    return this.ingest.submitBatch(body, scope);
  }

  @Get('history')
  @Roles('operator')
  @ApiOperation({ summary: 'Deliveries, newest first, filtered and paged (skip up to 10,000, or cursor)' })
  @ApiOkResponse({ type: HistoryPageView })
  list(@Query() query: HistoryQueryDto, @CurrentScope() scope: TenantScope): Promise<HistoryPageView> {
    return this.history.history(scope, query);
  }

  @Post('replay')
  @Roles('operator')
  @AuditAction('delivery.bulk_replay')
  @ApiOperation({
    summary: 'Recover: requeue the failed deliveries of a window (<= 14 days, <= 10,000) in the background',
    description:
      'One running job per endpoint (409). dry_run only counts. Poll GET /alerts/deliveries/replay/{job_id}.',
  })
  @ApiAcceptedResponse({ type: ReplayJobView })
  @ApiConflictResponse({ type: ErrorResponseDto })
  bulkReplay(
    @Body() body: BulkReplayDto,
    @CurrentScope() scope: TenantScope,
    @CurrentActor() actor: Actor,
    @Res({ passthrough: true }) res: Response,
  ): Promise<ReplayJobView> {
    res.status(202);
    return this.bulk.start(body, scope, actor);
  }

  @Get('replay/:jobId')
  @Roles('operator')
  @ApiOperation({ summary: 'A recover job: status and counts' })
  @ApiOkResponse({ type: ReplayJobView })
  bulkReplayStatus(@Param('jobId') jobId: string, @CurrentScope() scope: TenantScope): Promise<ReplayJobView> {
    return this.bulk.get(jobId, scope);
  }

  @Post(':id/replay')
  @Roles('operator')
  @AuditAction('delivery.replay')
  @ApiOperation({
    summary: 'Put a delivery back in the queue now (202)',
    description:
      'Already pending or in flight: 409. Already succeeded, or endpoint paused/disabled: 409 unless force=true.',
  })
  @ApiAcceptedResponse({ type: DeliveryView })
  @ApiConflictResponse({ type: ErrorResponseDto })
  replay(
    @Param('id') id: string,
    @Query() query: ReplayQueryDto,
    @CurrentScope() scope: TenantScope,
    @CurrentActor() actor: Actor,
    @Res({ passthrough: true }) res: Response,
  ): Promise<DeliveryView> {
    res.status(202);
    return this.replays.replay(id, query.force === 'true', scope, actor);
  }

  @Get(':id')
  @Roles('operator')
  @ApiOperation({ summary: 'One delivery with its payload' })
  @ApiOkResponse({ type: DeliveryDetailView })
  get(@Param('id') id: string, @CurrentScope() scope: TenantScope): Promise<DeliveryDetailView> {
    return this.history.get(id, scope);
  }
}
