import type { Request } from 'express';

/**
 * The matched route as a template (`/alerts/deliveries/{id}/replay`), never the raw URL, so
 * metric labels stay bounded. Requests that matched no route are `unmatched`.
 */
export function routeTemplate(req: Request): string {
  const path: unknown = (req.route as { path?: unknown } | undefined)?.path;
  // The dashboard's static files match no route: one label for all of them.
  if (typeof path !== 'string') return /^\/ui(?:[/?]|$)/.test(req.originalUrl) ? '/ui' : 'unmatched';
  const base = typeof req.baseUrl === 'string' ? req.baseUrl : '';
  const template = `${base}${path}`.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
  return template === '' ? '/' : template;
}
