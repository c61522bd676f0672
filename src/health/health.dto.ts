import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class HealthDto {
  @ApiProperty({ example: 'healthy' })
  status!: 'healthy';
}

export class ReadinessDto {
  @ApiProperty({ enum: ['ready', 'unavailable'], example: 'ready' })
  status!: 'ready' | 'unavailable';

  @ApiProperty({ enum: ['postgres', 'sqlite'] })
  database!: 'postgres' | 'sqlite';

  @ApiPropertyOptional({ example: 'shutting down' })
  detail?: string;
}

export class MetaDto {
  @ApiProperty({ example: '0.1.0' })
  version!: string;

  @ApiProperty({ example: '1.0' })
  api_version!: string;

  @ApiProperty({ type: [String], example: ['rbac', 'rate_limiting', 'metrics'] })
  features!: string[];
}
