import { Injectable, OnModuleInit } from '@nestjs/common';
import { FeatureRegistry } from '../common/features/feature-registry.js';
import { AppConfig } from '../config/app-config.js';
import { API_VERSION, appVersion } from './app-version.js';
import type { MetaDto } from './health.dto.js';

/** `GET /meta`: what this instance is and which capabilities it has enabled. */
@Injectable()
export class MetaService implements OnModuleInit {
  constructor(
    private readonly features: FeatureRegistry,
    private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.features.enable('rbac');
    this.features.enable('tenant_scoping');
    this.features.enable('metrics');
    this.features.enable('openapi');
    if (this.config.RATE_LIMIT_PER_MINUTE > 0) this.features.enable('rate_limiting');
    if (this.config.AUTH_PROXY_SECRET) this.features.enable('auth_proxy');
  }

  describe(): MetaDto {
    return { version: appVersion(), api_version: API_VERSION, features: this.features.list() };
  }
}
