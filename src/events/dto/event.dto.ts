import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { SEVERITIES } from '../event.types.js';

export class SubjectDto {
  @ApiProperty({ example: 'delivery' })
  type!: string;

  @ApiProperty({ example: '8d1c6c2e-3f0a-4c55-9d54-0a1f3b2c7e10' })
  id!: string;
}

export class ActorDto {
  @ApiProperty({ enum: ['user', 'system', 'rule'] })
  type!: 'user' | 'system' | 'rule';

  @ApiProperty({ type: [String], example: ['operator'] })
  roles!: string[];

  @ApiProperty({ type: String, nullable: true, example: 'acme-corp' })
  tenant_id!: string | null;

  @ApiPropertyOptional({ type: String, nullable: true })
  ip?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true })
  user_agent?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true })
  request_id?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true })
  rule_id?: string | null;
}

export class EventDto {
  @ApiProperty({ example: 1042, description: 'Global, increasing; also the SSE id' })
  id!: number;

  @ApiProperty({ example: 'audit.annotation.create' })
  type!: string;

  @ApiProperty({ enum: SEVERITIES })
  severity!: string;

  @ApiProperty({ type: String, nullable: true })
  tenant_id!: string | null;

  @ApiProperty({ type: SubjectDto, nullable: true })
  subject!: SubjectDto | null;

  @ApiProperty({ type: ActorDto })
  actor!: ActorDto;

  @ApiProperty({ type: 'object', additionalProperties: true })
  data!: Record<string, unknown>;

  @ApiProperty({ example: '2026-11-26T14:32:01.234Z' })
  created_at!: string;

  @ApiProperty({ type: String, nullable: true, description: 'Audit events: hash of the previous link' })
  prev_hash!: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'Audit events: SHA-256 link hash' })
  hash!: string | null;
}

export class EventPageDto {
  @ApiProperty({ type: [EventDto] })
  items!: EventDto[];

  @ApiProperty({ type: String, nullable: true, description: 'Pass as `cursor` for the next (older) page' })
  next_cursor!: string | null;
}

export class ChainReportDto {
  @ApiProperty()
  ok!: boolean;

  @ApiProperty({ description: 'Links checked' })
  checked!: number;

  @ApiProperty({ type: Number, nullable: true })
  first_id!: number | null;

  @ApiProperty({ type: Number, nullable: true })
  last_id!: number | null;

  @ApiPropertyOptional({ description: 'The first link that does not verify' })
  broken_at?: number;

  @ApiPropertyOptional()
  reason?: string;
}
