import { randomBytes } from 'node:crypto';

/** Standard Webhooks secrets: `whsec_` followed by base64 of at least 24 random bytes. */
export const SIGNING_SECRET_PATTERN = /^whsec_[A-Za-z0-9+/]{32,256}={0,2}$/;

export function generateSigningSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}
