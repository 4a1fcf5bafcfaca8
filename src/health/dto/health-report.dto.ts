import { ApiProperty } from '@nestjs/swagger';

// Enums are spelled out: the swagger plugin would take them from the union types, whose member order differs
// between compiler runs (nest build vs ts-jest), and the committed spec must not depend on it.
export class HealthCheckDto {
  /** @example "up" */
  @ApiProperty({ enum: ['up', 'down'] })
  status!: 'up' | 'down';
  /** Round trip of a database ping. */
  latencyMs?: number;
  freeBytes?: number;
  minFreeBytes?: number;
  /** Why the check is down. */
  detail?: string;
}

export class HealthChecksDto {
  database!: HealthCheckDto;
  storage!: HealthCheckDto;
  disk!: HealthCheckDto;
}

export class HealthReportDto {
  /** `ok` when every check is up (HTTP 200), otherwise `error` (HTTP 503). @example "ok" */
  @ApiProperty({ enum: ['ok', 'error'] })
  status!: 'ok' | 'error';
  checks!: HealthChecksDto;
}
