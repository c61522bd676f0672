import type { Request } from 'express';
import { routeTemplate } from './route-template.js';

const req = (route: unknown, baseUrl = '') => ({ route, baseUrl }) as unknown as Request;

describe('routeTemplate', () => {
  it('turns Express params into OpenAPI-style placeholders', () => {
    expect(routeTemplate(req({ path: '/alerts/deliveries/:id/replay' }))).toBe('/alerts/deliveries/{id}/replay');
    expect(routeTemplate(req({ path: '/a/:tenant_id/b/:id' }))).toBe('/a/{tenant_id}/b/{id}');
  });

  it('includes a router base and names unmatched requests', () => {
    expect(routeTemplate(req({ path: '/x' }, '/v2'))).toBe('/v2/x');
    expect(routeTemplate(req(undefined))).toBe('unmatched');
    expect(routeTemplate(req({ path: '' }))).toBe('/');
  });
});
