import { ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { BoundedInt, CommaList, IsoDateTime } from '../../common/validation/validators.js';
import { DELIVERY_STATUSES, type DeliveryStatus } from '../delivery.entity.js';
import { EndpointUrl, TENANT_PATTERN } from './delivery-inputs.dto.js';

export const MAX_SKIP = 10_000;

export class HistoryQueryDto {
  @ApiPropertyOptional({ example: 'acme-corp' })
  @IsOptional()
  @Matches(TENANT_PATTERN, { message: 'must be a tenant id' })
  tenant_id?: string;

  @ApiPropertyOptional({ description: 'failed, pending or success; several comma-separated', example: 'failed' })
  @IsOptional()
  @CommaList()
  @ArrayMaxSize(3)
  @IsIn(DELIVERY_STATUSES, { each: true, message: `each status must be one of ${DELIVERY_STATUSES.join(', ')}` })
  status?: DeliveryStatus[];

  @ApiPropertyOptional()
  @IsOptional()
  @EndpointUrl()
  endpoint_url?: string;

  @ApiPropertyOptional({ example: 'invoice.paid' })
  @IsOptional()
  @Matches(/^[A-Za-z0-9_.:-]{1,200}$/, { message: 'must be an event type' })
  event_type?: string;

  @ApiPropertyOptional({ example: '2026-11-25T00:00:00Z' })
  @IsOptional()
  @IsoDateTime()
  start_time?: string;

  @ApiPropertyOptional({ example: '2026-11-26T00:00:00Z' })
  @IsOptional()
  @IsoDateTime()
  end_time?: string;

  @ApiPropertyOptional({ default: 0, maximum: MAX_SKIP, description: `At most ${MAX_SKIP}; page deeper with cursor` })
  @IsOptional()
  @BoundedInt(0, MAX_SKIP, `must be an integer between 0 and ${MAX_SKIP}; to page deeper, pass next_cursor as cursor`)
  skip: number = 0;

  @ApiPropertyOptional({ default: 50, minimum: 1, maximum: 500 })
  @IsOptional()
  @BoundedInt(1, 500)
  limit: number = 50;

  @ApiPropertyOptional({ description: 'The next_cursor of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(300)
  cursor?: string;
}
