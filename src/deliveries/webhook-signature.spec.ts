import { createHmac } from 'node:crypto';
import { sign, webhookHeaders } from './webhook-signature.js';

const secret = `whsec_${Buffer.from('a-test-secret-of-enough-length!!').toString('base64')}`;

describe('Standard Webhooks signatures', () => {
  it('signs id.timestamp.body with the decoded secret', () => {
    const expected = createHmac('sha256', Buffer.from('a-test-secret-of-enough-length!!'))
      .update('msg_1.1700000000.{"a":1}')
      .digest('base64');
    expect(sign(secret, 'msg_1', 1700000000, '{"a":1}')).toBe(`v1,${expected}`);
  });

  it('signs with both secrets during a rotation, and only the new one after', () => {
    const old = `whsec_${Buffer.from('the-previous-secret-of-24-bytes!').toString('base64')}`;
    const now = new Date('2026-11-26T12:00:00Z');
    const during = webhookHeaders(
      { secret, previousSecret: old, previousSecretExpiresAt: new Date(now.getTime() + 1000) },
      'id1',
      '{}',
      now,
    );
    expect(during['webhook-signature'].split(' ')).toEqual([
      sign(secret, 'id1', 1795694400, '{}'),
      sign(old, 'id1', 1795694400, '{}'),
    ]);
    const after = webhookHeaders(
      { secret, previousSecret: old, previousSecretExpiresAt: new Date(now.getTime() - 1) },
      'id1',
      '{}',
      now,
    );
    expect(after['webhook-signature'].split(' ')).toHaveLength(1);
    expect(after['webhook-timestamp']).toBe('1795694400');
    expect(after['webhook-id']).toBe('id1');
  });
});
