import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import {
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { AuditAction } from '../common/auth/access-denied.js';
import { CurrentScope } from '../common/auth/current-identity.decorator.js';
import { Roles } from '../common/auth/roles.decorator.js';
import type { TenantScope } from '../common/auth/tenant-scope.js';
import { ErrorResponseDto } from '../common/errors/error-response.dto.js';
import { CurrentActor } from '../events/actor.js';
import type { Actor } from '../events/event.types.js';
import { AutohealCooldownsService } from './autoheal-cooldowns.service.js';
import { AutohealExecutionsService } from './autoheal-executions.service.js';
import { AutohealRulesService } from './autoheal-rules.service.js';
import { ClearCooldownDto, ClearCooldownView, CooldownListView, CooldownQueryDto } from './dto/cooldown.dto.js';
import { ExecutionPageView, ExecutionQueryDto } from './dto/execution.dto.js';
import { CreateRuleDto, RuleListView, RuleView, UpdateRuleDto } from './dto/rule.dto.js';

@ApiTags('autoheal')
@Controller('autoheal')
export class AutohealController {
  constructor(
    private readonly rules: AutohealRulesService,
    private readonly cooldowns: AutohealCooldownsService,
    private readonly executions: AutohealExecutionsService,
  ) {}

  @Get('rules')
  @Roles('operator')
  @ApiOperation({ summary: 'Autoheal rules, by name (a tenant sees global rules and its own)' })
  @ApiOkResponse({ type: RuleListView })
  async listRules(@CurrentScope() scope: TenantScope): Promise<RuleListView> {
    return { items: await this.rules.list(scope) };
  }

  @Post('rules')
  @Roles('admin')
  @AuditAction('autoheal.rule.create')
  @ApiOperation({ summary: 'Create a rule (201); a taken name is a 409' })
  @ApiCreatedResponse({ type: RuleView })
  @ApiConflictResponse({ type: ErrorResponseDto })
  createRule(@Body() body: CreateRuleDto, @CurrentActor() actor: Actor): Promise<RuleView> {
    return this.rules.create(body, actor);
  }

  @Get('rules/:id')
  @Roles('operator')
  @ApiOperation({ summary: 'One rule' })
  @ApiOkResponse({ type: RuleView })
  getRule(@Param('id') id: string, @CurrentScope() scope: TenantScope): Promise<RuleView> {
    return this.rules.get(id, scope);
  }

  @Patch('rules/:id')
  @Roles('admin')
  @AuditAction('autoheal.rule.update')
  @ApiOperation({ summary: 'Change a rule; name the version you read (a stale version is a 409)' })
  @ApiOkResponse({ type: RuleView })
  @ApiConflictResponse({ type: ErrorResponseDto })
  updateRule(
    @Param('id') id: string,
    @Body() body: UpdateRuleDto,
    @CurrentScope() scope: TenantScope,
    @CurrentActor() actor: Actor,
  ): Promise<RuleView> {
    return this.rules.update(id, body, scope, actor);
  }

  @Delete('rules/:id')
  @HttpCode(204)
  @Roles('admin')
  @AuditAction('autoheal.rule.delete')
  @ApiOperation({ summary: 'Delete a rule (its executions stay)' })
  @ApiNoContentResponse()
  async deleteRule(
    @Param('id') id: string,
    @CurrentScope() scope: TenantScope,
    @CurrentActor() actor: Actor,
  ): Promise<void> {
    await this.rules.remove(id, scope, actor);
  }

  @Get('cooldowns')
  @Roles('operator')
  @ApiOperation({ summary: 'Endpoints in a rule cooldown or paused: until when, by which rule' })
  @ApiOkResponse({ type: CooldownListView })
  async listCooldowns(@Query() query: CooldownQueryDto, @CurrentScope() scope: TenantScope): Promise<CooldownListView> {
    return { items: await this.cooldowns.list(scope, query.tenant_id) };
  }

  @Post('clear_endpoint_cooldown')
  @HttpCode(200)
  @Roles('admin')
  @AuditAction('autoheal.clear_endpoint_cooldown')
  @ApiOperation({
    summary: 'End an endpoint’s cooldowns now, lift an autoheal pause, and reset its failure baseline',
    description: 'Nothing to clear: 200 with cleared=false. Unknown endpoint: 404. Audited either way.',
  })
  @ApiOkResponse({ type: ClearCooldownView })
  clearCooldown(
    @Body() body: ClearCooldownDto,
    @CurrentScope() scope: TenantScope,
    @CurrentActor() actor: Actor,
  ): Promise<ClearCooldownView> {
    return this.cooldowns.clear(body, scope, actor);
  }

  @Get('executions')
  @Roles('operator')
  @ApiOperation({ summary: 'What the engine decided, newest first, filtered and paged by cursor' })
  @ApiOkResponse({ type: ExecutionPageView })
  listExecutions(@Query() query: ExecutionQueryDto, @CurrentScope() scope: TenantScope): Promise<ExecutionPageView> {
    return this.executions.list(query, scope);
  }
}
