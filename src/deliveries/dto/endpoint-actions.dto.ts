import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import { IsoDateTime } from '../../common/validation/validators.js';

export class PauseEndpointDto {
  @ApiPropertyOptional({ description: 'Resume by itself at this time (ISO 8601); paused until resumed when absent' })
  @IsOptional()
  @IsoDateTime()
  until?: string;

  @ApiPropertyOptional({ example: 'Receiver under maintenance until 14:00' })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  reason?: string;
}
