import { Module, OnModuleInit } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { FeatureRegistry } from '../common/features/feature-registry.js';
import { DeliveriesModule } from '../deliveries/deliveries.module.js';
import { EventsModule } from '../events/events.module.js';
import { AutohealActions } from './autoheal-actions.js';
import { AutohealCooldownsService } from './autoheal-cooldowns.service.js';
import { AutohealEngine } from './autoheal-engine.js';
import { AutohealExecutionEntity } from './autoheal-execution.entity.js';
import { AutohealExecutionRepository } from './autoheal-execution.repository.js';
import { AutohealExecutionsService } from './autoheal-executions.service.js';
import { AutohealRuleEntity } from './autoheal-rule.entity.js';
import { AutohealRuleRepository } from './autoheal-rule.repository.js';
import { AutohealRulesService } from './autoheal-rules.service.js';
import { AutohealStateEntity } from './autoheal-state.entity.js';
import { AutohealStateRepository } from './autoheal-state.repository.js';
import { AutohealController } from './autoheal.controller.js';
import { autohealMetrics } from './autoheal.metrics.js';

/** Rules that heal failing endpoints: the engine, its memory and executions, and the API. */
@Module({
  imports: [
    TypeOrmModule.forFeature([AutohealRuleEntity, AutohealStateEntity, AutohealExecutionEntity]),
    EventsModule,
    DeliveriesModule,
  ],
  controllers: [AutohealController],
  providers: [
    ...autohealMetrics,
    AutohealRuleRepository,
    AutohealStateRepository,
    AutohealExecutionRepository,
    AutohealRulesService,
    AutohealCooldownsService,
    AutohealExecutionsService,
    AutohealActions,
    AutohealEngine,
  ],
})
export class AutohealModule implements OnModuleInit {
  constructor(private readonly features: FeatureRegistry) {}

  onModuleInit(): void {
    this.features.enable('autoheal');
  }
}
