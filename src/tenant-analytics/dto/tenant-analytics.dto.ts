import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, Matches } from 'class-validator';
import { TENANT_PATTERN } from '../../deliveries/dto/delivery-inputs.dto.js';
import { HEALTH_STATUSES } from '../health-score.js';

export const WINDOWS = ['1h', '24h', '7d'] as const;
export type AnalyticsWindow = (typeof WINDOWS)[number];
export const SERIES_SIGNALS = ['failure_ratio', 'p95_latency_ms', 'volume', 'attempts', 'success_rate'] as const;
export type SeriesSignal = (typeof SERIES_SIGNALS)[number];

export class SummaryQueryDto {
  @ApiPropertyOptional({ enum: WINDOWS, default: '24h' })
  @IsOptional()
  @IsIn(WINDOWS, { message: `must be one of ${WINDOWS.join(', ')}` })
  window: AnalyticsWindow = '24h';

  @ApiPropertyOptional({ description: 'Only this tenant' })
  @IsOptional()
  @Matches(TENANT_PATTERN, { message: 'must be a tenant id' })
  tenant_id?: string;
}

export class TenantParamDto {
  @ApiProperty()
  @Matches(TENANT_PATTERN, { message: 'must be a tenant id' })
  tenant_id!: string;
}

export class TimeseriesQueryDto {
  @ApiProperty({ enum: SERIES_SIGNALS })
  @IsIn(SERIES_SIGNALS, { message: `must be one of ${SERIES_SIGNALS.join(', ')}` })
  signal!: SeriesSignal;

  @ApiPropertyOptional({ enum: WINDOWS, default: '24h' })
  @IsOptional()
  @IsIn(WINDOWS, { message: `must be one of ${WINDOWS.join(', ')}` })
  window: AnalyticsWindow = '24h';
}

export class ScoreComponentsView {
  @ApiProperty({ type: Number, nullable: true, description: 'B = clamp(1 − (1 − success rate) / (1 − target), 0, 1)' })
  slo_attainment!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'A = Apdex (satisfied + tolerating / 2) / finished' })
  apdex!: number | null;
  @ApiProperty() slo_target!: number;
  @ApiProperty() apdex_t_ms!: number;
  @ApiProperty() slo_weight!: number;
  @ApiProperty() apdex_weight!: number;
}

export class TenantSummaryView {
  @ApiProperty() tenant_id!: string;
  @ApiProperty({ type: Number, nullable: true, description: '0–100; null under 100 finished deliveries' })
  health_score!: number | null;
  @ApiProperty({ enum: HEALTH_STATUSES }) status!: string;
  @ApiProperty({ type: Number, nullable: true, description: 'Delivered ÷ finished, each delivery counted once' })
  success_rate!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Of attempts, from the rollup histogram' })
  p95_latency_ms!: number | null;
  @ApiProperty({ description: 'Deliveries finished in the window (delivered + failed)' }) deliveries!: number;
  @ApiProperty({ description: 'Deliveries that failed for good in the window' }) failed!: number;
  @ApiProperty({ description: 'Deliveries pending now' }) pending!: number;
  @ApiProperty({ description: 'Deliveries received from producers in the window' }) received!: number;
  @ApiProperty() attempts!: number;
  @ApiProperty() open_anomalies!: number;
  @ApiProperty() paused_endpoints!: number;
  @ApiProperty() endpoints!: number;
  @ApiProperty({ type: ScoreComponentsView }) components!: ScoreComponentsView;
}

export class SummaryView {
  @ApiProperty({ enum: WINDOWS }) window!: string;
  @ApiProperty({ description: 'Start of the first 5-minute bucket counted' }) since!: string;
  @ApiProperty({ type: [TenantSummaryView], description: 'Worst first; tenants without a score last' })
  items!: TenantSummaryView[];
}

export class SeriesPointView {
  @ApiProperty() bucket_start!: string;
  @ApiProperty({ type: Number, nullable: true, description: 'null where the bucket had no attempts' })
  value!: number | null;
  @ApiProperty() attempts!: number;
  @ApiProperty() received!: number;
}

export class TimeseriesView {
  @ApiProperty() tenant_id!: string;
  @ApiProperty({ enum: SERIES_SIGNALS }) signal!: string;
  @ApiProperty({ enum: WINDOWS }) window!: string;
  @ApiProperty({ description: '300 for 1h and 24h, 3600 for 7d' }) bucket_s!: number;
  @ApiProperty({ type: [SeriesPointView] }) points!: SeriesPointView[];
}

export class OverviewPointView {
  @ApiProperty({ description: 'Start of the 5-minute bucket' }) bucket_start!: string;
  @ApiProperty({ description: 'Deliveries received from producers' }) received!: number;
  @ApiProperty({ description: 'Deliveries that succeeded' }) delivered!: number;
  @ApiProperty({ description: 'Deliveries that failed for good' }) failed!: number;
  @ApiProperty() attempts!: number;
  @ApiProperty({ description: 'Attempts that failed' }) failures!: number;
}

export class OverviewView {
  @ApiProperty({ example: '1h' }) window!: string;
  @ApiProperty({ example: 300 }) bucket_s!: number;
  @ApiProperty({
    description: 'Every 5-minute bucket of the last hour, the current one last',
    type: [OverviewPointView],
  })
  points!: OverviewPointView[];
  @ApiProperty({ description: 'Deliveries waiting to be sent' }) pending!: number;
  @ApiProperty({ description: 'Tenants with an endpoint' }) tenants!: number;
  @ApiProperty({ description: 'Endpoints paused' }) paused_endpoints!: number;
}
