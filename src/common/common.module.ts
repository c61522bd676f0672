import { Global, Module } from '@nestjs/common';
import { FeatureRegistry } from './features/feature-registry.js';
import { LifecycleService } from './lifecycle/lifecycle.service.js';
import { Clock } from './time/clock.js';

/** Cross-cutting services every module may use. */
@Global()
@Module({
  providers: [LifecycleService, FeatureRegistry, Clock],
  exports: [LifecycleService, FeatureRegistry, Clock],
})
export class CommonModule {}
