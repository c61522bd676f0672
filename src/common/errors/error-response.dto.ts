import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class FieldErrorDto {
  @ApiProperty({ example: 'limit' })
  field!: string;

  @ApiProperty({ example: 'must not be greater than 500' })
  message!: string;
}

/** The one error shape every endpoint answers with. */
export class ErrorResponseDto {
  @ApiProperty({ example: 'Missing or invalid X-User-Roles header' })
  detail!: string;

  @ApiPropertyOptional({ example: '5f0c6a1e-8b7d-4a53-9a53-1c2a9d7e6b11' })
  request_id?: string;

  @ApiPropertyOptional({ type: [FieldErrorDto], description: 'Present on validation errors' })
  errors?: FieldErrorDto[];

  @ApiPropertyOptional({ description: 'Present on 500s: quote it when reporting the problem' })
  error_id?: string;
}
