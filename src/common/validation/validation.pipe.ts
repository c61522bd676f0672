import { ValidationPipe, type ArgumentMetadata } from '@nestjs/common';
import { ValidationFailedException } from '../errors/validation-failed.exception.js';
import { NUL_MESSAGE } from './validators.js';

/**
 * The global pipe: DTOs are whitelisted, unknown fields rejected, every bad field reported. Path
 * parameters and query values never carry a NUL character (PostgreSQL refuses it in any text
 * parameter, so a lookup by `/deliveries/%00` would fail as a 500): they are a 400 naming the field.
 */
class AppValidationPipe extends ValidationPipe {
  override transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'param' || metadata.type === 'query') rejectNul(value, metadata.data);
    return super.transform(value, metadata);
  }
}

export function createValidationPipe(): ValidationPipe {
  return new AppValidationPipe({
    transform: true,
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    stopAtFirstError: true,
    exceptionFactory: (errors) => ValidationFailedException.fromValidationErrors(errors),
  });
}

function rejectNul(value: unknown, name: string | undefined): void {
  const fields: [string, unknown][] =
    name !== undefined || typeof value !== 'object' || value === null || Array.isArray(value)
      ? [[name ?? 'value', value]]
      : Object.entries(value);
  const bad = fields
    .filter(([, v]) => (Array.isArray(v) ? v : [v]).some((s) => typeof s === 'string' && s.includes('\u0000')))
    .map(([field]) => ({ field, message: NUL_MESSAGE }));
  if (bad.length) throw new ValidationFailedException(bad);
}
