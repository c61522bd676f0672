import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { BoundedInt, CommaList, IsoDateTime } from '../../common/validation/validators.js';
import { TENANT_PATTERN } from '../../deliveries/dto/delivery-inputs.dto.js';
import { EXECUTION_OUTCOMES } from '../autoheal-execution.entity.js';

export class ExecutionQueryDto {
  @ApiPropertyOptional()
  @IsOptional()
  @Matches(TENANT_PATTERN, { message: 'must be a tenant id' })
  tenant_id?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(64)
  rule_id?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(64)
  endpoint_id?: string;

  @ApiPropertyOptional({ description: `One or a comma list of ${EXECUTION_OUTCOMES.join(', ')}` })
  @IsOptional()
  @CommaList()
  @ArrayMaxSize(EXECUTION_OUTCOMES.length)
  @IsIn(EXECUTION_OUTCOMES, { each: true, message: `must be one or more of ${EXECUTION_OUTCOMES.join(', ')}` })
  outcome?: string[];

  @ApiPropertyOptional({ example: '2026-11-26T00:00:00Z' })
  @IsOptional()
  @IsoDateTime()
  since?: string;

  @ApiPropertyOptional({ example: '2026-11-26T06:00:00Z' })
  @IsOptional()
  @IsoDateTime()
  until?: string;

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

export class ExecutionView {
  @ApiProperty() id!: string;
  @ApiProperty() rule_id!: string;
  @ApiProperty() rule_name!: string;
  @ApiProperty() endpoint_id!: string;
  @ApiProperty() tenant_id!: string;
  @ApiProperty() endpoint_url!: string;
  @ApiProperty() metric!: string;
  @ApiProperty() value!: number;
  @ApiProperty() threshold!: number;
  @ApiProperty({ enum: EXECUTION_OUTCOMES }) outcome!: string;
  @ApiProperty() action_type!: string;
  @ApiProperty({ type: Object }) detail!: Record<string, unknown>;
  @ApiProperty() created_at!: string;
}

export class ExecutionPageView {
  @ApiProperty({ type: [ExecutionView] }) items!: ExecutionView[];
  @ApiProperty() limit!: number;
  @ApiProperty({ type: String, nullable: true }) next_cursor!: string | null;
  @ApiProperty() has_more!: boolean;
}
