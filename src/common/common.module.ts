import { Global, Module } from '@nestjs/common';
import { FeatureRegistry } from './features/feature-registry.js';
import { LifecycleService } from './lifecycle/lifecycle.service.js';

/** Cross-cutting services every module may use. */
@Global()
@Module({
  providers: [LifecycleService, FeatureRegistry],
  exports: [LifecycleService, FeatureRegistry],
})
export class CommonModule {}
