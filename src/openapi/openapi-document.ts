import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { PROXY_SECURITY, ROLES_SECURITY, TENANT_SECURITY } from '../common/auth/roles.decorator.js';
import { appVersion } from '../health/app-version.js';

/** The committed spec, relative to the repository root; `npm run openapi` rewrites it. */
export const OPENAPI_SPEC_PATH = 'src/openapi/openapi.json';

/** The OpenAPI document, with keys sorted so the committed copy diffs cleanly. */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Command Center')
    .setDescription(
      'Operations hub for multi-tenant webhook delivery. Identity comes from the X-User-Roles ' +
        '(operator, admin, ingest; comma-separated) and X-User-Tenant headers: use Authorize to set them.',
    )
    .setVersion(appVersion())
    .addApiKey(
      { type: 'apiKey', in: 'header', name: 'X-User-Roles', description: 'operator, admin or ingest' },
      ROLES_SECURITY,
    )
    .addApiKey(
      {
        type: 'apiKey',
        in: 'header',
        name: 'X-User-Tenant',
        description: 'Confines a non-admin to one tenant (optional)',
      },
      TENANT_SECURITY,
    )
    .addApiKey(
      {
        type: 'apiKey',
        in: 'header',
        name: 'X-Auth-Proxy-Secret',
        description: 'Required when AUTH_PROXY_SECRET is set',
      },
      PROXY_SECURITY,
    )
    .build();
  const document = SwaggerModule.createDocument(app, config, {
    operationIdFactory: (controllerKey, methodKey) => `${controllerKey.replace(/Controller$/, '')}_${methodKey}`,
  });
  return sortKeys(document) as OpenAPIObject;
}

export function serializeOpenApiDocument(document: OpenAPIObject): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}
