import { BadRequestException, ValidationError } from '@nestjs/common';

export interface FieldError {
  field: string;
  message: string;
}

/** A 400 that lists every invalid field, e.g. `{detail, errors: [{field: 'limit', message}]}`. */
export class ValidationFailedException extends BadRequestException {
  constructor(readonly errors: FieldError[]) {
    super(errors.length === 1 ? `Invalid ${errors[0].field}: ${errors[0].message}` : 'Request validation failed');
  }

  static fromValidationErrors(errors: ValidationError[]): ValidationFailedException {
    return new ValidationFailedException(flatten(errors, ''));
  }
}

function flatten(errors: ValidationError[], prefix: string): FieldError[] {
  const out: FieldError[] = [];
  for (const error of errors) {
    const field = prefix ? `${prefix}.${error.property}` : error.property;
    for (const message of Object.values(error.constraints ?? {}))
      out.push({ field, message: stripProperty(message, error.property) });
    if (error.children?.length) out.push(...flatten(error.children, field));
  }
  return out;
}

/** class-validator messages start with the property name; the field is already given. */
function stripProperty(message: string, property: string): string {
  return message.startsWith(`${property} `) ? message.slice(property.length + 1) : message;
}
