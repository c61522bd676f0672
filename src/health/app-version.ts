import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The API's version; bumped when a response shape changes incompatibly. */
export const API_VERSION = '1.0';

let cached: string | undefined;

/** The package version, read once from the package.json the service was started beside. */
export function appVersion(): string {
  if (cached === undefined) {
    try {
      cached = String(
        (JSON.parse(readFileSync(join(process.cwd(), 'package.json'), 'utf8')) as { version?: string }).version ??
          'unknown',
      );
    } catch {
      cached = 'unknown';
    }
  }
  return cached;
}
