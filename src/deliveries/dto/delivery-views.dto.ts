import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { DELIVERY_STATUSES } from '../delivery.entity.js';

export class StatusCountsDto {
  @ApiProperty() pending!: number;
  @ApiProperty() success!: number;
  @ApiProperty() failed!: number;
}

export class EndpointView {
  @ApiProperty() id!: string;
  @ApiProperty() tenant_id!: string;
  @ApiProperty() url!: string;
  @ApiProperty({ enum: ['active', 'paused', 'disabled'] }) state!: string;
  @ApiProperty({ type: String, nullable: true }) paused_until!: string | null;
  @ApiProperty({ type: String, nullable: true }) paused_by!: string | null;
  @ApiProperty({ type: String, nullable: true }) disabled_reason!: string | null;
  @ApiProperty({ type: String, nullable: true }) last_success_at!: string | null;
  @ApiProperty({ type: String, nullable: true }) last_failure_at!: string | null;
  @ApiProperty() consecutive_failures!: number;
  @ApiProperty({ description: 'The current pause was set by autoheal: a successful probe ends it' })
  autoheal_paused!: boolean;
  @ApiProperty({ description: 'Autoheal pauses in a row without a successful probe' })
  pause_streak!: number;
  @ApiProperty({ type: StatusCountsDto, description: 'Deliveries created in the last 24 h, by status' })
  counts_24h!: StatusCountsDto;
  @ApiProperty() created_at!: string;
  @ApiProperty() updated_at!: string;
  @ApiPropertyOptional({ description: 'Only in the answer that registers the endpoint' })
  secret?: string;
}

export class EndpointPageView {
  @ApiProperty({ type: [EndpointView] }) items!: EndpointView[];
  @ApiProperty({ type: String, nullable: true }) next_cursor!: string | null;
}

export class DeliveryView {
  @ApiProperty() id!: string;
  @ApiProperty() tenant_id!: string;
  @ApiProperty() endpoint_id!: string;
  @ApiProperty() endpoint_url!: string;
  @ApiProperty() event_type!: string;
  @ApiProperty({ enum: DELIVERY_STATUSES }) status!: string;
  @ApiProperty() attempt_count!: number;
  @ApiProperty({ type: String, nullable: true }) next_attempt_at!: string | null;
  @ApiProperty({ type: Number, nullable: true }) last_status_code!: number | null;
  @ApiProperty({ type: String, nullable: true }) last_error_kind!: string | null;
  @ApiProperty({ type: String, nullable: true }) idempotency_key!: string | null;
  @ApiProperty() payload_bytes!: number;
  @ApiProperty() created_at!: string;
  @ApiProperty() updated_at!: string;
  @ApiProperty({ type: String, nullable: true }) completed_at!: string | null;
}

export class AttemptView {
  @ApiProperty() attempt_number!: number;
  @ApiProperty({ enum: ['initial', 'retry', 'manual_replay', 'bulk_replay', 'autoheal', 'probe'] }) trigger!: string;
  @ApiProperty() started_at!: string;
  @ApiProperty() duration_ms!: number;
  @ApiProperty({ type: Number, nullable: true }) status_code!: number | null;
  @ApiProperty({
    type: String,
    nullable: true,
    enum: ['timeout', 'dns', 'connect', 'tls', 'ssrf_blocked', 'http_status', 'endpoint_disabled'],
  })
  error_kind!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'At most 4 KiB of the response body' })
  response_excerpt!: string | null;
}

export class DeliveryDetailView extends DeliveryView {
  @ApiProperty({ description: 'The JSON payload as submitted' }) payload!: unknown;
  @ApiProperty({ type: [AttemptView] }) attempts!: AttemptView[];
}

export class HistoryPageView {
  @ApiProperty({ type: [DeliveryView] }) items!: DeliveryView[];
  @ApiProperty() limit!: number;
  @ApiProperty() skip!: number;
  @ApiProperty({ type: String, nullable: true }) next_cursor!: string | null;
  @ApiProperty() has_more!: boolean;
}

export class BatchItemResultView {
  @ApiProperty() index!: number;
  @ApiProperty() id!: string;
  @ApiProperty({ description: 'true when an idempotency key matched an earlier delivery' }) duplicate!: boolean;
}

export class BatchResultView {
  @ApiProperty({ type: [BatchItemResultView] }) items!: BatchItemResultView[];
  @ApiProperty() accepted!: number;
  @ApiProperty() duplicates!: number;
}
