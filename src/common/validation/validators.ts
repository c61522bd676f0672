import { applyDecorators } from '@nestjs/common';
import { Transform, Type } from 'class-transformer';
import { IsInt, IsISO8601, Matches, Max, Min, NotContains } from 'class-validator';

/** A query-string integer within bounds. */
export function BoundedInt(
  min: number,
  max: number,
  message = `must be an integer between ${min} and ${max}`,
): PropertyDecorator {
  return applyDecorators(
    Type(() => Number),
    IsInt({ message }),
    Min(min, { message }),
    Max(max, { message }),
  );
}

/** An ISO 8601 date-time with a time zone (`2026-11-26T14:00:00Z`), turned into a Date. */
export function IsoDateTime(): PropertyDecorator {
  return applyDecorators(
    IsISO8601(
      { strict: true, strictSeparator: true },
      { message: 'must be an ISO 8601 date-time, e.g. 2026-11-26T14:00:00Z' },
    ),
    Matches(/(Z|[+-]\d{2}:?\d{2})$/, { message: 'must include a time zone (Z or ±hh:mm)' }),
  );
}

/** `a,b , c` → ['a', 'b', 'c']; repeated query parameters are joined first. */
export const CommaList = (): PropertyDecorator =>
  Transform(({ value }: { value: unknown }) => {
    const joined = Array.isArray(value) ? value.join(',') : value;
    return typeof joined === 'string'
      ? joined
          .split(',')
          .map((v) => v.trim())
          .filter((v) => v.length > 0)
      : joined;
  });

export const NUL_MESSAGE = 'must not contain NUL characters';

/** Text stored in a text column: PostgreSQL cannot store a NUL character (it fails the whole write). */
export const NoNulCharacters = (): PropertyDecorator => NotContains('\u0000', { message: NUL_MESSAGE });
