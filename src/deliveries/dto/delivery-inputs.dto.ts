import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsDefined,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { NoNulCharacters } from '../../common/validation/validators.js';
import { SIGNING_SECRET_PATTERN } from '../signing-secret.js';

export const TENANT_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const TENANT_MESSAGE = 'must be 1-128 letters, digits, ".", "_", ":" or "-"';
const URL_OPTIONS = {
  protocols: ['http', 'https'],
  require_protocol: true,
  require_tld: false,
  allow_underscores: true,
};
const URL_MESSAGE = 'must be an absolute http or https URL';
export const MAX_BATCH_ITEMS = 500;

/** An absolute http(s) URL of at most 2,048 characters: where webhooks go. */
export function EndpointUrl(): PropertyDecorator {
  return applyDecorators(IsString(), MaxLength(2048), NoNulCharacters(), IsUrl(URL_OPTIONS, { message: URL_MESSAGE }));
}

export class RegisterEndpointDto {
  @ApiProperty({ example: 'acme-corp' })
  @Matches(TENANT_PATTERN, { message: TENANT_MESSAGE })
  tenant_id!: string;

  @ApiProperty({ example: 'https://api.example.com/webhooks' })
  @EndpointUrl()
  url!: string;

  @ApiPropertyOptional({ description: 'Signing secret (`whsec_` + base64); generated when absent' })
  @IsOptional()
  @Matches(SIGNING_SECRET_PATTERN, { message: 'must be whsec_ followed by base64 of at least 24 bytes' })
  secret?: string;
}

export class SubmitDeliveryDto {
  @ApiProperty({ example: 'acme-corp' })
  @Matches(TENANT_PATTERN, { message: TENANT_MESSAGE })
  tenant_id!: string;

  @ApiProperty({ example: 'https://api.example.com/webhooks', maxLength: 2048 })
  @EndpointUrl()
  endpoint_url!: string;

  @ApiProperty({ example: 'invoice.paid' })
  @IsString()
  @Matches(/^[A-Za-z0-9_.:-]{1,200}$/, { message: 'must be 1-200 letters, digits, ".", "_", ":" or "-"' })
  event_type!: string;

  @ApiProperty({ description: 'Any JSON value; sent as the request body', example: { invoice_id: 'inv_123' } })
  @IsDefined({ message: 'is required (any JSON value)' })
  payload!: unknown;

  @ApiPropertyOptional({ description: 'The same key for the same tenant within 24 h returns the original delivery' })
  @IsOptional()
  @IsString()
  @Matches(/^[\x21-\x7e]{1,200}$/, { message: 'must be 1-200 printable ASCII characters without spaces' })
  idempotency_key?: string;
}

export class SubmitBatchDto {
  @ApiProperty({ type: [SubmitDeliveryDto], maxItems: MAX_BATCH_ITEMS })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_BATCH_ITEMS)
  @ValidateNested({ each: true })
  @Type(() => SubmitDeliveryDto)
  items!: SubmitDeliveryDto[];
}
