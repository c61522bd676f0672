import { createHmac } from 'node:crypto';

/** Standard Webhooks: `v1,` + base64 HMAC-SHA256, keyed by the secret's bytes, of `id.timestamp.body`. */
export function sign(secret: string, id: string, timestampS: number, body: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestampS}.${body}`).digest('base64')}`;
}

export interface SigningKeys {
  secret: string;
  previousSecret?: string | null;
  previousSecretExpiresAt?: Date | null;
}

/** The three Standard Webhooks headers; during a rotation both secrets sign (space-separated). */
export function webhookHeaders(keys: SigningKeys, id: string, body: string, now: Date): Record<string, string> {
  const timestamp = Math.floor(now.getTime() / 1000);
  const signatures = [sign(keys.secret, id, timestamp, body)];
  if (keys.previousSecret && keys.previousSecretExpiresAt && new Date(keys.previousSecretExpiresAt) > now) {
    signatures.push(sign(keys.previousSecret, id, timestamp, body));
  }
  return { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signatures.join(' ') };
}
