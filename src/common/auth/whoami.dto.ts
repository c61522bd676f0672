import { ApiProperty } from '@nestjs/swagger';
import { ROLES, type Role } from './identity.js';

export class WhoAmIDto {
  @ApiProperty({ enum: ROLES, isArray: true, example: ['operator'] })
  roles!: Role[];

  @ApiProperty({ type: String, nullable: true, example: 'acme-corp' })
  tenant_id!: string | null;
}
