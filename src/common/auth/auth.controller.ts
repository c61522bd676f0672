import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentIdentity } from './current-identity.decorator.js';
import type { Identity } from './identity.js';
import { Roles } from './roles.decorator.js';
import { WhoAmIDto } from './whoami.dto.js';

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  @Get('whoami')
  @Roles('operator', 'ingest')
  @ApiOperation({ summary: 'The roles and tenant this request is treated as having' })
  @ApiOkResponse({ type: WhoAmIDto })
  whoami(@CurrentIdentity() identity: Identity): WhoAmIDto {
    return { roles: identity.roles, tenant_id: identity.tenantId };
  }
}
