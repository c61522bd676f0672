import { ApiProperty, ApiPropertyOptional, PartialType, OmitType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { NoNulCharacters } from '../../common/validation/validators.js';
import { TENANT_PATTERN } from '../../deliveries/dto/delivery-inputs.dto.js';
import { ACTION_TYPES, TRIGGER_METRICS, type ActionType, type TriggerMetric } from '../autoheal-rule.entity.js';

const int = (min: number, max: number) => [
  IsInt({ message: `must be an integer between ${min} and ${max}` }),
  Min(min, { message: `must be an integer between ${min} and ${max}` }),
  Max(max, { message: `must be an integer between ${min} and ${max}` }),
];
const apply =
  (...decorators: PropertyDecorator[]): PropertyDecorator =>
  (target, key) => {
    for (const d of decorators) d(target, key);
  };

export class TriggerDto {
  @ApiProperty({ enum: TRIGGER_METRICS })
  @IsIn(TRIGGER_METRICS, { message: `must be one of ${TRIGGER_METRICS.join(', ')}` })
  metric!: TriggerMetric;

  @ApiProperty({
    description:
      'Fires at or above this: a count for consecutive_failures and endpoint_recovered (the streak that ended), a ratio 0-1 for failure_rate and timeout_rate, milliseconds for latency_p95_ms',
    example: 10,
  })
  @IsNumber({ allowNaN: false, allowInfinity: false }, { message: 'must be a number' })
  @Min(0, { message: 'must not be negative' })
  @Max(1_000_000, { message: 'must be at most 1000000' })
  threshold!: number;

  @ApiPropertyOptional({ default: 300, minimum: 60, maximum: 86_400 })
  @IsOptional()
  @apply(...int(60, 86_400))
  window_s?: number;

  @ApiPropertyOptional({ default: 10, minimum: 0, maximum: 1_000_000 })
  @IsOptional()
  @apply(...int(0, 1_000_000))
  min_requests?: number;

  @ApiPropertyOptional({ default: 0, minimum: 0, maximum: 86_400 })
  @IsOptional()
  @apply(...int(0, 86_400))
  for_s?: number;
}

export class ActionDto {
  @ApiProperty({ enum: ACTION_TYPES })
  @IsIn(ACTION_TYPES, { message: `must be one of ${ACTION_TYPES.join(', ')}` })
  type!: ActionType;

  @ApiPropertyOptional({
    description:
      'pause_endpoint: {pause_s}; replay_failed: {since_s, max_deliveries}; notify: {severity, message}; disable_endpoint: none',
    example: { pause_s: 300 },
  })
  @IsOptional()
  @IsObject({ message: 'must be an object' })
  params?: Record<string, unknown>;
}

export class CreateRuleDto {
  @ApiProperty({ example: 'pause-flaky-endpoints' })
  @Matches(/^[a-z0-9][a-z0-9._-]{0,99}$/, { message: 'must be 1-100 lowercase letters, digits, ".", "_" or "-"' })
  name!: string;

  @ApiPropertyOptional({ default: '' })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  @NoNulCharacters()
  description?: string;

  @ApiPropertyOptional({ default: true })
  @IsOptional()
  @IsBoolean({ message: 'must be true or false' })
  enabled?: boolean;

  @ApiPropertyOptional({ default: false, description: 'Record would_fire instead of acting' })
  @IsOptional()
  @IsBoolean({ message: 'must be true or false' })
  dry_run?: boolean;

  @ApiPropertyOptional({ type: String, nullable: true, description: 'Only this tenant; omit or null for all' })
  @IsOptional()
  @Matches(TENANT_PATTERN, { message: 'must be a tenant id' })
  tenant_id?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, description: 'Only endpoints whose URL starts with this' })
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  @NoNulCharacters()
  endpoint_url_prefix?: string | null;

  @ApiProperty({ type: TriggerDto })
  @ValidateNested()
  @Type(() => TriggerDto)
  @IsObject({ message: 'must be an object' })
  trigger!: TriggerDto;

  @ApiProperty({ type: ActionDto })
  @ValidateNested()
  @Type(() => ActionDto)
  @IsObject({ message: 'must be an object' })
  action!: ActionDto;

  @ApiPropertyOptional({ default: 900, minimum: 0, maximum: 604_800 })
  @IsOptional()
  @apply(...int(0, 604_800))
  cooldown_s?: number;

  @ApiPropertyOptional({ default: 4, minimum: 1, maximum: 1000 })
  @IsOptional()
  @apply(...int(1, 1000))
  max_actions_per_hour?: number;
}

export class UpdateRuleDto extends PartialType(OmitType(CreateRuleDto, ['name'] as const)) {
  @ApiProperty({ description: 'The version you read; a stale one is a 409' })
  @apply(...int(1, 2_147_483_647))
  version!: number;

  @ApiPropertyOptional()
  @IsOptional()
  @Matches(/^[a-z0-9][a-z0-9._-]{0,99}$/, { message: 'must be 1-100 lowercase letters, digits, ".", "_" or "-"' })
  name?: string;
}

export class TriggerView {
  @ApiProperty({ enum: TRIGGER_METRICS }) metric!: string;
  @ApiProperty() threshold!: number;
  @ApiProperty() window_s!: number;
  @ApiProperty() min_requests!: number;
  @ApiProperty() for_s!: number;
}

export class ActionView {
  @ApiProperty({ enum: ACTION_TYPES }) type!: string;
  @ApiProperty({ type: Object }) params!: Record<string, unknown>;
}

export class RuleView {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() description!: string;
  @ApiProperty() enabled!: boolean;
  @ApiProperty() dry_run!: boolean;
  @ApiProperty({ type: String, nullable: true }) tenant_id!: string | null;
  @ApiProperty({ type: String, nullable: true }) endpoint_url_prefix!: string | null;
  @ApiProperty({ type: TriggerView }) trigger!: TriggerView;
  @ApiProperty({ type: ActionView }) action!: ActionView;
  @ApiProperty() cooldown_s!: number;
  @ApiProperty() max_actions_per_hour!: number;
  @ApiProperty({ description: 'Installed with the service (still editable)' }) builtin!: boolean;
  @ApiProperty() version!: number;
  @ApiProperty() created_by!: string;
  @ApiProperty() created_at!: string;
  @ApiProperty() updated_at!: string;
}

export class RuleListView {
  @ApiProperty({ type: [RuleView] }) items!: RuleView[];
}
