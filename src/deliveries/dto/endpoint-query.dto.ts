import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { BoundedInt } from '../../common/validation/validators.js';
import { TENANT_PATTERN } from './delivery-inputs.dto.js';

export class EndpointListQueryDto {
  @ApiPropertyOptional()
  @IsOptional()
  @Matches(TENANT_PATTERN, { message: 'must be a tenant id' })
  tenant_id?: string;

  @ApiPropertyOptional({ default: 50, minimum: 1, maximum: 500 })
  @IsOptional()
  @BoundedInt(1, 500)
  limit: number = 50;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(300)
  cursor?: string;
}
