import 'reflect-metadata';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { NestFactory } from '@nestjs/core';
import { AppModule } from '../app.module.js';
import { buildOpenApiDocument, OPENAPI_SPEC_PATH, serializeOpenApiDocument } from './openapi-document.js';

/** `npm run openapi`: boots the app on a throwaway SQLite store and writes the sorted spec. */
async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'cc-openapi-'));
  process.env.DATA_DIR = dataDir;
  delete process.env.DATABASE_URL;
  process.env.LOG_LEVEL = 'error';
  const app = await NestFactory.create(AppModule, { logger: false });
  try {
    const target = resolve(OPENAPI_SPEC_PATH);
    writeFileSync(target, serializeOpenApiDocument(buildOpenApiDocument(app)));
    process.stdout.write(`wrote ${OPENAPI_SPEC_PATH}\n`);
  } finally {
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`openapi generation failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
