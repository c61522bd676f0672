import { applyDecorators } from '@nestjs/common';
import { plainToInstance, Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  MinLength,
  validateSync,
} from 'class-validator';

export const LOG_LEVELS = ['debug', 'info', 'warning', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const toInt = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value.trim()) : value;
/** An integer within bounds, given as a decimal string in the environment. */
function IntInRange(min: number, max: number, message = `must be an integer between ${min} and ${max}`) {
  return applyDecorators(Transform(toInt), IsInt({ message }), Min(min, { message }), Max(max, { message }));
}

const toNumber = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value.trim()) ? Number(value.trim()) : value;
/** A decimal number within bounds, given as a string in the environment. */
function NumberInRange(min: number, max: number, message = `must be a number between ${min} and ${max}`) {
  return applyDecorators(
    Transform(toNumber),
    IsNumber({ allowNaN: false, allowInfinity: false }, { message }),
    Min(min, { message }),
    Max(max, { message }),
  );
}

const toBoolean = ({ value }: { value: unknown }) =>
  typeof value === 'string'
    ? (({ true: true, false: false } as Record<string, boolean>)[value.trim().toLowerCase()] ?? value)
    : value;
/** `true` or `false` (any case), given as a string in the environment. */
function BooleanFlag() {
  return applyDecorators(Transform(toBoolean), IsBoolean({ message: 'must be true or false' }));
}

const emptyToUndefined = ({ value }: { value: unknown }) =>
  typeof value === 'string' && value.trim() === '' ? undefined : value;

/**
 * Every environment variable the service reads, with its default. Validated once at boot;
 * see `loadConfig`. Documented in the README's configuration table.
 */
export class AppConfig {
  @IntInRange(1, 65535)
  PORT = 8010;

  @IsString()
  @MinLength(1, { message: 'must not be empty' })
  HOST = '0.0.0.0';

  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim().toLowerCase() : value))
  @IsIn(LOG_LEVELS, { message: `must be one of ${LOG_LEVELS.join(', ')}` })
  LOG_LEVEL: LogLevel = 'info';

  @IsString()
  @MinLength(1, { message: 'must not be empty' })
  DATA_DIR = './data';

  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/\S+$/, {
    message: 'must be a postgres:// or postgresql:// URL (unset for embedded SQLite)',
  })
  DATABASE_URL?: string;

  @IntInRange(1, 100)
  DB_POOL_MAX = 10;

  @IntInRange(100, 60000)
  DB_CONNECT_TIMEOUT_MS = 5000;

  /** Longest a PostgreSQL query may wait for its answer, so a dead network fails a request instead of hanging it. */
  @IntInRange(1000, 600000)
  DB_QUERY_TIMEOUT_MS = 30000;

  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  @MinLength(16, { message: 'must be at least 16 characters when set' })
  AUTH_PROXY_SECRET?: string;

  @IntInRange(0, Number.MAX_SAFE_INTEGER, 'must be a non-negative integer (0 disables rate limiting)')
  RATE_LIMIT_PER_MINUTE = 600;

  @IntInRange(1024, 100 * 1024 * 1024)
  MAX_BODY_BYTES = 1024 * 1024;

  @IntInRange(1000, 60000)
  SHUTDOWN_TIMEOUT_MS = 10000;

  @IntInRange(1, 3650)
  EVENT_RETENTION_DAYS = 7;

  @IntInRange(1, 10 * 1024 * 1024)
  DELIVERY_MAX_PAYLOAD_BYTES = 256 * 1024;

  @IntInRange(1, 3650)
  DELIVERY_RETENTION_DAYS = 30;

  @IntInRange(100, 120_000)
  DELIVERY_TIMEOUT_MS = 15_000;

  /** Private ranges deliveries may reach anyway, e.g. `127.0.0.0/8,10.1.0.0/16` (tests, local use). */
  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^\s*[0-9a-fA-F:.]+\/\d{1,3}(\s*,\s*[0-9a-fA-F:.]+\/\d{1,3})*\s*$/, {
    message: 'must be a comma-separated list of CIDR ranges, e.g. 127.0.0.0/8,fd00::/8',
  })
  DELIVERY_ALLOWED_PRIVATE_CIDRS?: string;

  /** `false` runs an instance that serves the API but sends nothing (e.g. a read replica). */
  @BooleanFlag()
  DISPATCHER_ENABLED = true;

  @IntInRange(1, 1000)
  DISPATCH_CONCURRENCY = 32;

  @IntInRange(1, 100)
  DISPATCH_PER_ENDPOINT = 4;

  /** Autoheal pauses in a row without a successful probe, after which the endpoint is disabled instead. */
  @IntInRange(1, 1000)
  AUTOHEAL_DISABLE_AFTER_PAUSES = 10;

  /** Whether this replica runs the autoheal engine (only the leader among replicas evaluates). */
  @BooleanFlag()
  AUTOHEAL_ENABLED = true;

  /** Seconds between autoheal evaluations (delivery events also trigger one). */
  @IntInRange(1, 3600)
  AUTOHEAL_INTERVAL_S = 30;

  /** Seconds before each attempt: the first, then after each failure. */
  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^\s*\d{1,6}(\s*,\s*\d{1,6}){0,29}\s*$/, {
    message: 'must be a comma-separated list of seconds, e.g. 0,5,300',
  })
  RETRY_SCHEDULE?: string;

  @IntInRange(10, 86400)
  EVENT_RETENTION_INTERVAL_S = 300;

  /** Whether this replica runs the anomaly detector (only the leader among replicas evaluates). */
  @BooleanFlag()
  ANOMALY_ENABLED = true;

  /** Seconds between anomaly evaluations (and refreshes of the tenant health gauges). */
  @IntInRange(1, 3600)
  ANOMALY_INTERVAL_S = 60;

  /** Width of the normal band in robust standard deviations (1.4826 × MAD). */
  @NumberInRange(0.5, 20)
  ANOMALY_MAD_MULTIPLIER = 3;

  /** Smallest half-width of the failure-ratio band, as a ratio (0.05 = 5 percentage points). */
  @NumberInRange(0, 1)
  ANOMALY_FAILURE_RATIO_FLOOR = 0.05;

  /** Smallest half-width of the p95 latency band, as a share of the baseline median (1 = twice the median). */
  @NumberInRange(0, 10)
  ANOMALY_LATENCY_FLOOR = 1;

  /** Smallest half-width of the volume band, as a share of the baseline median. */
  @NumberInRange(0, 1)
  ANOMALY_VOLUME_FLOOR = 0.5;

  /** Attempts the 15-minute level window needs before failure ratio or latency get a verdict. */
  @IntInRange(1, 1_000_000)
  ANOMALY_MIN_ATTEMPTS = 100;

  /** Deliveries per hour the baseline needs before a volume drop can be reported. */
  @IntInRange(1, 100_000_000)
  ANOMALY_MIN_HOURLY_VOLUME = 300;

  /** Anomalous evaluations in a row before an anomaly opens. */
  @IntInRange(1, 100)
  ANOMALY_OPEN_AFTER = 2;

  /** Seconds back inside the band after which an anomaly resolves by itself. */
  @IntInRange(0, 86400)
  ANOMALY_RESOLVE_AFTER_S = 900;

  /** A recurrence within this many seconds of resolving reopens the same anomaly. */
  @IntInRange(0, 7 * 86400)
  ANOMALY_REOPEN_WINDOW_S = 3600;

  /** The delivery success rate a tenant is held to in its health score (0.995 = 99.5 %). */
  @NumberInRange(0.5, 0.99999)
  TENANT_SLO_TARGET = 0.995;

  /** Apdex threshold T in ms: delivered within T is satisfied, within 4T tolerating. */
  @IntInRange(1, 600_000)
  APDEX_T_MS = 1000;

  /** How many tenants (the worst scores) command_center_tenant_health_score reports. */
  @IntInRange(0, 100_000)
  METRICS_MAX_TENANTS = 100;

  @IntInRange(1, 100000)
  SSE_MAX_CLIENTS = 10000;

  @IntInRange(1, 3600)
  SSE_HEARTBEAT_S = 15;

  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^(true|false|\d{1,2}|[0-9a-fA-F:.,/\s]+|loopback|linklocal|uniquelocal)$/, {
    message: 'must be true, false, a hop count, or a comma-separated list of addresses/subnets',
  })
  TRUST_PROXY?: string;

  get databaseDialect(): 'postgres' | 'sqlite' {
    return this.DATABASE_URL ? 'postgres' : 'sqlite';
  }
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const KNOWN_KEYS = Object.keys(new AppConfig());

/** Reads and validates the environment; throws one ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const raw: Record<string, unknown> = {};
  for (const key of KNOWN_KEYS) {
    if (env[key] !== undefined) raw[key] = env[key];
  }
  for (const key of [
    'DATABASE_URL',
    'AUTH_PROXY_SECRET',
    'TRUST_PROXY',
    'DELIVERY_ALLOWED_PRIVATE_CIDRS',
    'RETRY_SCHEDULE',
  ]) {
    if (env[key] !== undefined) raw[key] = env[key];
  }
  const config = plainToInstance(AppConfig, raw, { exposeDefaultValues: true });
  const errors = validateSync(config, { forbidUnknownValues: false });
  if (errors.length > 0) {
    const problems = errors.map((e) => {
      const shown =
        e.property === 'AUTH_PROXY_SECRET' || e.property === 'DATABASE_URL'
          ? '(hidden)'
          : JSON.stringify(raw[e.property]);
      const message = Object.values(e.constraints ?? {})[0] ?? 'is invalid';
      return `${e.property} ${message} (got ${shown})`;
    });
    throw new ConfigError(problems);
  }
  return config;
}
