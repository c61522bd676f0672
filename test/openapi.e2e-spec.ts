import { readFileSync } from 'node:fs';
import { buildOpenApiDocument, OPENAPI_SPEC_PATH, serializeOpenApiDocument } from '../src/openapi/openapi-document.js';
import { createTestApp, type TestApp } from './support/test-app.js';

describe('OpenAPI', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp('sqlite');
  });
  afterAll(() => t.close());

  it(`the committed ${OPENAPI_SPEC_PATH} is up to date (run: npm run openapi)`, () => {
    const committed = readFileSync(OPENAPI_SPEC_PATH, 'utf8');
    expect(serializeOpenApiDocument(buildOpenApiDocument(t.app))).toBe(committed);
  });

  it('serves Swagger UI at /docs', async () => {
    const res = await t.http().get('/docs').expect(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.text).toContain('swagger-ui');
  });

  it('serves the spec at /docs-json with the identity headers as Authorize schemes', async () => {
    const res = await t.http().get('/docs-json').expect(200);
    const spec = res.body;
    expect(spec.components.securitySchemes).toMatchObject({
      roles: { type: 'apiKey', in: 'header', name: 'X-User-Roles' },
      tenant: { type: 'apiKey', in: 'header', name: 'X-User-Tenant' },
      proxy_secret: { type: 'apiKey', in: 'header', name: 'X-Auth-Proxy-Secret' },
    });
    const whoami = spec.paths['/auth/whoami'].get;
    expect(whoami.security).toEqual([{ roles: [], tenant: [], proxy_secret: [] }]);
    expect(Object.keys(whoami.responses)).toEqual(expect.arrayContaining(['200', '401', '403', '429']));
    expect(whoami['x-required-roles']).toEqual(['operator', 'ingest']);
    expect(spec.paths['/healthz'].get.security).toBeUndefined();
  });
});
