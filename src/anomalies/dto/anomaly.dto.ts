import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, IsIn, IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { BoundedInt, CommaList, NoNulCharacters } from '../../common/validation/validators.js';
import { TENANT_PATTERN } from '../../deliveries/dto/delivery-inputs.dto.js';
import { ANOMALY_STATUSES } from '../anomaly-lifecycle.js';
import { ANOMALY_KINDS, SIGNALS } from '../anomaly-signals.js';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

export class AnomalyQueryDto {
  @ApiPropertyOptional()
  @IsOptional()
  @Matches(TENANT_PATTERN, { message: 'must be a tenant id' })
  tenant_id?: string;

  @ApiPropertyOptional({ description: `One or a comma list of ${ANOMALY_KINDS.join(', ')}` })
  @IsOptional()
  @CommaList()
  @ArrayMaxSize(ANOMALY_KINDS.length)
  @IsIn(ANOMALY_KINDS, { each: true, message: `must be one or more of ${ANOMALY_KINDS.join(', ')}` })
  kind?: string[];

  @ApiPropertyOptional({
    description: `One or a comma list of ${ANOMALY_STATUSES.join(', ')} (default: open,triaged)`,
  })
  @IsOptional()
  @CommaList()
  @ArrayMaxSize(ANOMALY_STATUSES.length)
  @IsIn(ANOMALY_STATUSES, { each: true, message: `must be one or more of ${ANOMALY_STATUSES.join(', ')}` })
  status?: string[];

  @ApiPropertyOptional({ default: 100, minimum: 1, maximum: 500 })
  @IsOptional()
  @BoundedInt(1, 500)
  limit: number = 100;
}

export class TriageAnomalyDto {
  @ApiProperty({ description: 'What was found or done (required)', maxLength: 2000 })
  @Transform(trim)
  @IsString({ message: 'must be a string' })
  @MinLength(1, { message: 'must not be empty' })
  @MaxLength(2000)
  @NoNulCharacters()
  note!: string;

  @ApiPropertyOptional({ description: 'Who follows it up', maxLength: 200 })
  @IsOptional()
  @Transform(trim)
  @IsString({ message: 'must be a string' })
  @MinLength(1, { message: 'must not be empty' })
  @MaxLength(200)
  @NoNulCharacters()
  assignee?: string;
}

export class BaselineView {
  @ApiProperty({ enum: ['weekly', 'daily'] }) mode!: string;
  @ApiProperty() median!: number;
  @ApiProperty() mad!: number;
}

export class BandView {
  @ApiProperty() low!: number;
  @ApiProperty() high!: number;
}

export class AnomalyView {
  @ApiProperty() id!: string;
  @ApiProperty() tenant_id!: string;
  @ApiProperty({ enum: ANOMALY_KINDS }) kind!: string;
  @ApiProperty({ enum: SIGNALS }) signal!: string;
  @ApiProperty({ enum: ANOMALY_STATUSES }) status!: string;
  @ApiProperty({ enum: ['warning', 'error', 'critical'] }) severity!: string;
  @ApiProperty({ description: 'Median of the last three complete 5-minute buckets' }) current_value!: number;
  @ApiProperty({ type: BaselineView }) baseline!: BaselineView;
  @ApiProperty({ type: BandView }) band!: BandView;
  @ApiProperty({ description: 'Distance from the median in band half-widths' }) score!: number;
  @ApiProperty() peak_score!: number;
  @ApiProperty() sample_size!: number;
  @ApiProperty() first_seen_at!: string;
  @ApiProperty() last_seen_at!: string;
  @ApiProperty({ type: String, nullable: true }) inside_since!: string | null;
  @ApiProperty({ type: String, nullable: true }) resolved_at!: string | null;
  @ApiProperty() reopen_count!: number;
  @ApiProperty({ type: String, nullable: true }) triage_note!: string | null;
  @ApiProperty({ type: String, nullable: true }) triaged_by!: string | null;
  @ApiProperty({ type: String, nullable: true }) triaged_at!: string | null;
  @ApiProperty({ type: String, nullable: true }) assignee!: string | null;
}

export class AnomalyListView {
  @ApiProperty({ type: [AnomalyView] }) items!: AnomalyView[];
}
