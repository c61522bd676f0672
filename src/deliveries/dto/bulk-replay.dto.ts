import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsOptional, Matches } from 'class-validator';
import { IsoDateTime } from '../../common/validation/validators.js';
import { EndpointUrl, TENANT_PATTERN } from './delivery-inputs.dto.js';

export class BulkReplayDto {
  @ApiPropertyOptional({ example: 'acme-corp' })
  @IsOptional()
  @Matches(TENANT_PATTERN, { message: 'must be a tenant id' })
  tenant_id?: string;

  @ApiPropertyOptional({ example: 'https://api.acme.example/webhooks' })
  @IsOptional()
  @EndpointUrl()
  endpoint_url?: string;

  @ApiProperty({ example: '2026-11-25T00:00:00Z', description: 'Deliveries created at or after this time' })
  @IsoDateTime()
  since!: string;

  @ApiProperty({
    example: '2026-11-26T00:00:00Z',
    description: 'Deliveries created at or before this time (at most 14 days after since)',
  })
  @IsoDateTime()
  until!: string;

  @ApiPropertyOptional({ default: false, description: 'Only count what would be replayed' })
  @IsOptional()
  @IsBoolean({ message: 'must be true or false' })
  dry_run?: boolean;
}

export class ReplayJobView {
  @ApiProperty() job_id!: string;
  @ApiProperty({ enum: ['running', 'completed', 'failed', 'interrupted'] }) status!: string;
  @ApiProperty() dry_run!: boolean;
  @ApiProperty({ description: 'Failed deliveries in the window when the job started' }) matched!: number;
  @ApiProperty() requeued!: number;
  @ApiProperty({ description: 'Matched but no longer failed when their turn came (e.g. succeeded since)' })
  skipped!: number;
  @ApiProperty({ type: String, nullable: true }) tenant_id!: string | null;
  @ApiProperty({ type: String, nullable: true }) endpoint_url!: string | null;
  @ApiProperty() since!: string;
  @ApiProperty() until!: string;
  @ApiProperty() created_at!: string;
  @ApiProperty({ type: String, nullable: true }) finished_at!: string | null;
}
