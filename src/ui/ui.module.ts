import { Module, OnModuleInit } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import { FeatureRegistry } from '../common/features/feature-registry.js';
import { UiController } from './ui.controller.js';

/** Where `npm run build` writes the dashboard's bundle (see src/ui/build-ui.js). */
export const UI_ASSETS_DIR = join(process.cwd(), 'dist', 'ui-assets');

// Everything the page needs is its own: no CDN, no inline script, API calls to this origin only.
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/**
 * Serves the dashboard's static files under /ui/. Called by configureApp, so they are answered
 * before the API's guards and rate limits; everything the page shows comes from the API, which
 * applies both.
 */
export function serveDashboard(app: NestExpressApplication): void {
  app.useStaticAssets(UI_ASSETS_DIR, {
    prefix: '/ui',
    index: 'index.html',
    setHeaders: (res: ServerResponse) => {
      res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
      res.setHeader('X-Content-Type-Options', 'nosniff');
      res.setHeader('Referrer-Policy', 'no-referrer');
      res.setHeader('Cache-Control', 'no-cache');
    },
  });
}

/** The operator dashboard: / redirects to it; its files are built from src/ui/app into dist/ui-assets. */
@Module({ controllers: [UiController] })
export class UiModule implements OnModuleInit {
  constructor(private readonly features: FeatureRegistry) {}

  onModuleInit(): void {
    this.features.enable('operator_dashboard');
  }
}
