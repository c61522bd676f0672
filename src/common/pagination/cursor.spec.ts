import { BadRequestException } from '@nestjs/common';
import { decodeCursor, encodeCursor } from './cursor.js';

describe('cursors', () => {
  it('round-trip an id', () => {
    expect(decodeCursor(encodeCursor(12345))).toBe(12345);
    expect(decodeCursor(undefined)).toBeUndefined();
  });

  it.each([
    'garbage',
    '',
    encodeCursor(0),
    Buffer.from('{"id":"1"}').toString('base64url'),
    Buffer.from('[1]').toString('base64url'),
  ])('rejects %j with a 400', (cursor) => {
    expect(() => decodeCursor(cursor)).toThrow(BadRequestException);
  });
});
