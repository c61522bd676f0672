import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';

export class ReplayQueryDto {
  @ApiPropertyOptional({
    enum: ['true', 'false'],
    description: 'Replay even a success, or to a paused/disabled endpoint',
  })
  @IsOptional()
  @IsIn(['true', 'false'], { message: 'must be true or false' })
  force?: 'true' | 'false';
}
