export class HealthCheckDto {
  /** @example "up" */
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
  status!: 'ok' | 'error';
  checks!: HealthChecksDto;
}
