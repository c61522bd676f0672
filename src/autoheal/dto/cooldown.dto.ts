import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { EndpointUrl, TENANT_PATTERN } from '../../deliveries/dto/delivery-inputs.dto.js';

export class ClearCooldownDto {
  @ApiProperty({ example: 'https://api.acme.example/webhooks' })
  @EndpointUrl()
  endpoint_url!: string;

  @ApiPropertyOptional({ description: 'Only this tenant’s endpoint with that URL (default: every tenant’s)' })
  @IsOptional()
  @Matches(TENANT_PATTERN, { message: 'must be a tenant id' })
  tenant_id?: string;

  @ApiPropertyOptional({ example: 'receiver fixed, deploy 2026-11-26 03:10' })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  reason?: string;
}

export class ClearedEndpointView {
  @ApiProperty() endpoint_id!: string;
  @ApiProperty() tenant_id!: string;
  @ApiProperty({ description: 'Cooldowns that were running and ended now' }) cooldowns_cleared!: number;
  @ApiProperty({ description: 'Whether an autoheal pause was lifted' }) resumed!: boolean;
}

export class ClearCooldownView {
  @ApiProperty({ description: 'Whether anything was cleared' }) cleared!: boolean;
  @ApiProperty() endpoint_url!: string;
  @ApiProperty({ type: [ClearedEndpointView] }) endpoints!: ClearedEndpointView[];
}

export class CooldownView {
  @ApiProperty() endpoint_id!: string;
  @ApiProperty() tenant_id!: string;
  @ApiProperty() endpoint_url!: string;
  @ApiProperty({ enum: ['cooldown', 'paused'] }) kind!: string;
  @ApiProperty({ type: String, nullable: true, description: 'When the cooldown or pause ends (null: until resumed)' })
  until!: string | null;
  @ApiProperty({ type: String, nullable: true }) rule_id!: string | null;
  @ApiProperty({ type: String, nullable: true }) rule_name!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'For pauses: who paused it' }) paused_by!: string | null;
}

export class CooldownListView {
  @ApiProperty({ type: [CooldownView] }) items!: CooldownView[];
}

export class CooldownQueryDto {
  @ApiPropertyOptional()
  @IsOptional()
  @Matches(TENANT_PATTERN, { message: 'must be a tenant id' })
  tenant_id?: string;
}
