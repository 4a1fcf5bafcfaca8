/** The body of every error response. */
export class ErrorResponseDto {
  /** @example false */
  success!: boolean;
  /** @example 404 */
  statusCode!: number;
  /** Stable machine-readable code. @example "NOT_FOUND" */
  error!: string;
  /** Human-readable explanation. @example "Upload not found" */
  message!: string;
  /** Echoed in the `X-Request-Id` header; quote it when reporting a problem. */
  requestId!: string;
  /** Per-field messages, present on `VALIDATION_FAILED`. */
  errors?: Record<string, string[]>;
}
