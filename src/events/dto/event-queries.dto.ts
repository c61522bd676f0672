import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { ROLES } from '../../common/auth/identity.js';
import { BoundedInt, CommaList, IsoDateTime } from '../../common/validation/validators.js';
import { SEVERITIES, type Severity } from '../event.types.js';

const TYPE_PATTERN = /^[a-z0-9_-]+(\.[a-z0-9_-]+)*(\.\*)?$/i;
const TENANT_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const TYPE_MESSAGE = 'each type must look like delivery.failed or audit.*';

export class StreamQueryDto {
  @ApiPropertyOptional({
    description: 'Comma-separated event types; `prefix.*` matches a family',
    example: 'delivery.failed,audit.*',
  })
  @IsOptional()
  @CommaList()
  @ArrayMaxSize(50)
  @Matches(TYPE_PATTERN, { each: true, message: TYPE_MESSAGE })
  types?: string[];

  @ApiPropertyOptional({ example: 'acme-corp' })
  @IsOptional()
  @Matches(TENANT_PATTERN, { message: 'must be a tenant id' })
  tenant_id?: string;

  @ApiPropertyOptional({ enum: SEVERITIES })
  @IsOptional()
  @IsIn(SEVERITIES, { message: `must be one of ${SEVERITIES.join(', ')}` })
  min_severity?: Severity;

  @ApiPropertyOptional({ description: 'Resume after this event id (same as the Last-Event-ID header)' })
  @IsOptional()
  @Matches(/^\d{1,15}$/, { message: 'must be an event id (a non-negative integer)' })
  last_event_id?: string;
}

export class AuditQueryDto {
  @ApiPropertyOptional({ default: 100, minimum: 1, maximum: 1000 })
  @IsOptional()
  @BoundedInt(1, 1000)
  limit: number = 100;

  @ApiPropertyOptional({ description: 'The next_cursor of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  cursor?: string;

  @ApiPropertyOptional({
    description: 'Event type(s), comma-separated; `prefix.*` matches a family',
    example: 'audit.*',
  })
  @IsOptional()
  @CommaList()
  @ArrayMaxSize(50)
  @Matches(TYPE_PATTERN, { each: true, message: TYPE_MESSAGE })
  type?: string[];

  @ApiPropertyOptional({ example: 'acme-corp' })
  @IsOptional()
  @Matches(TENANT_PATTERN, { message: 'must be a tenant id' })
  tenant_id?: string;

  @ApiPropertyOptional({ enum: ROLES, description: 'Only events caused by someone with this role' })
  @IsOptional()
  @IsIn(ROLES, { message: `must be one of ${ROLES.join(', ')}` })
  actor_role?: string;

  @ApiPropertyOptional({ example: '2026-11-20T00:00:00Z' })
  @IsOptional()
  @IsoDateTime()
  since?: string;

  @ApiPropertyOptional({ example: '2026-11-26T23:59:59Z' })
  @IsOptional()
  @IsoDateTime()
  until?: string;
}

export class AnnotationDto {
  @ApiProperty({
    description: 'What happened',
    maxLength: 1000,
    example: 'Started mitigation: failing over the EU receiver',
  })
  @IsString()
  @Matches(/\S/, { message: 'must not be blank' })
  @MaxLength(1000)
  message!: string;

  @ApiPropertyOptional({ enum: SEVERITIES, default: 'info' })
  @IsOptional()
  @IsIn(SEVERITIES, { message: `must be one of ${SEVERITIES.join(', ')}` })
  severity?: Severity;

  @ApiPropertyOptional({ description: 'The tenant it concerns (a tenant-scoped caller: only its own)' })
  @IsOptional()
  @Matches(TENANT_PATTERN, { message: 'must be a tenant id' })
  tenant_id?: string;
}
