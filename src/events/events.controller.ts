import { Body, Controller, Get, Headers, HttpCode, Post, Query, Req, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiHeader, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { AuditAction } from '../common/auth/access-denied.js';
import { CurrentScope } from '../common/auth/current-identity.decorator.js';
import { Roles } from '../common/auth/roles.decorator.js';
import type { TenantScope } from '../common/auth/tenant-scope.js';
import { CurrentActor } from './actor.js';
import { AnnotationService } from './annotation.service.js';
import { AuditVerifier, type ChainReport } from './audit-verifier.js';
import { AnnotationDto, AuditQueryDto, StreamQueryDto } from './dto/event-queries.dto.js';
import { ChainReportDto, EventDto, EventPageDto } from './dto/event.dto.js';
import { EventHistoryService } from './event-history.service.js';
import { EventStreamService } from './event-stream.service.js';
import type { Actor, StoredEvent } from './event.types.js';

@ApiTags('events')
@Controller('events')
export class EventsController {
  constructor(
    private readonly streams: EventStreamService,
    private readonly history: EventHistoryService,
    private readonly verifier: AuditVerifier,
    private readonly annotations: AnnotationService,
  ) {}

  /**
   * Written on the raw response rather than with @Sse: Nest writes each message with its own
   * write and waits for it, which costs every client a syscall per event; the stream service
   * formats each frame once and coalesces each client's frames into one write.
   */
  @Get('stream')
  @Roles('operator')
  @ApiOperation({
    summary: 'Live events (Server-Sent Events): id = event id, event = type, data = the event as JSON',
    description:
      'Send Last-Event-ID (or last_event_id) to receive what you missed first. A `reset` event means ' +
      'events after that id are no longer retained (or the id is unknown). A `: heartbeat` comment ' +
      'arrives every SSE_HEARTBEAT_S seconds.',
  })
  @ApiProduces('text/event-stream')
  @ApiHeader({ name: 'Last-Event-ID', required: false, description: 'Resume after this event id' })
  @ApiOkResponse({ description: 'An event stream' })
  stream(
    @Query() query: StreamQueryDto,
    @Headers('last-event-id') lastEventId: string | undefined,
    @CurrentScope() scope: TenantScope,
    @Req() req: Request,
    @Res() res: Response,
  ): void {
    this.streams.attach(scope, query, lastEventId, req, res);
  }

  @Get('audit')
  @Roles('operator')
  @ApiOperation({ summary: 'Event history (retained EVENT_RETENTION_DAYS), newest first' })
  @ApiOkResponse({ type: EventPageDto })
  audit(@Query() query: AuditQueryDto, @CurrentScope() scope: TenantScope): Promise<EventPageDto> {
    return this.history.list(scope, query);
  }

  @Get('audit/verify')
  @Roles('admin')
  @ApiOperation({ summary: 'Verify the audit trail hash chain over the retained events' })
  @ApiOkResponse({ type: ChainReportDto })
  verify(): Promise<ChainReport> {
    return this.verifier.verify();
  }

  @Post('annotations')
  @HttpCode(201)
  @Roles('operator')
  @AuditAction('annotation.create')
  @ApiOperation({ summary: 'Mark the timeline: an operator.annotation event on every stream' })
  @ApiCreatedResponse({ type: EventDto })
  annotate(
    @Body() body: AnnotationDto,
    @CurrentScope() scope: TenantScope,
    @CurrentActor() actor: Actor,
  ): Promise<StoredEvent> {
    return this.annotations.create(body, scope, actor);
  }
}
