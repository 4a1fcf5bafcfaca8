import { HttpStatus } from '@nestjs/common';
import { ApiError } from '../../common/errors/api-error';
import { ErrorCode } from '../../common/errors/error-code';

/**
 * The S3 server failed, could not be reached, or refused us (credentials, missing bucket): nothing the client
 * did wrong, so the HTTP layer answers 503 STORAGE_UNAVAILABLE through the global filter. The SDK's error is
 * kept as `cause` for the log line; the body never shows it.
 */
export class StorageUnavailableError extends ApiError {
  /** What the store was doing ("write media/u/1.jpg"), for the log line. */
  readonly operation: string;

  constructor(operation: string, cause: unknown) {
    super(
      HttpStatus.SERVICE_UNAVAILABLE,
      ErrorCode.STORAGE_UNAVAILABLE,
      'The storage is temporarily unavailable; try again later',
    );
    this.cause = cause;
    this.operation = operation;
  }

  override toString(): string {
    return `StorageUnavailableError: ${this.operation} failed: ${describeS3Error(this.cause)}`;
  }
}

/** A read asked for bytes past the end of the object (S3 InvalidRange, HTTP 416). */
export class RangeNotSatisfiableError extends Error {
  override name = 'RangeNotSatisfiableError';
}

interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

function status(error: unknown): number | undefined {
  return (error as SdkError | undefined)?.$metadata?.httpStatusCode;
}

function nameOf(error: unknown): string | undefined {
  return (error as SdkError | undefined)?.name;
}

/** The object (or, for HeadObject, whatever the 404 was about) does not exist. */
export function isMissingObject(error: unknown): boolean {
  const name = nameOf(error);
  if (name === 'NoSuchKey' || name === 'NotFound') return true;
  return status(error) === 404 && name !== 'NoSuchBucket' && name !== 'NoSuchUpload';
}

/** The multipart upload was completed or aborted already (or never existed). */
export function isMissingUpload(error: unknown): boolean {
  return nameOf(error) === 'NoSuchUpload';
}

export function isInvalidRange(error: unknown): boolean {
  return nameOf(error) === 'InvalidRange' || status(error) === 416;
}

/** An AbortSignal stopped the request (the SDK's own AbortError), not a storage failure. */
export function isAbortError(error: unknown): boolean {
  return nameOf(error) === 'AbortError';
}

/** Wraps anything but an abort in StorageUnavailableError; an existing one passes through. */
export function storageFailure(operation: string, error: unknown): Error {
  if (error instanceof StorageUnavailableError || isAbortError(error)) return error as Error;
  return new StorageUnavailableError(operation, error);
}

/** One short phrase for logs and the startup line: the network code, or the S3 error code and HTTP status. */
export function describeS3Error(error: unknown): string {
  const e = (error ?? {}) as SdkError;
  const code = networkCode(e);
  if (code) return `${code}${e.message ? ` (${e.message})` : ''}`;
  const httpStatus = status(error);
  const name = e.name && e.name !== 'Error' ? e.name : undefined;
  const parts = [name, httpStatus ? `HTTP ${httpStatus}` : undefined].filter(Boolean);
  const message = e.message && e.message !== 'UnknownError' && e.message !== name ? e.message : undefined;
  return [parts.join(', '), message].filter(Boolean).join(': ') || String(error);
}

/** A copy or move whose source object does not exist. */
export class ObjectNotFoundError extends Error {
  override name = 'ObjectNotFoundError';
}

/** The startup check found the bucket unusable; the message is the one line to print. */
export class S3BucketCheckError extends Error {
  override name = 'S3BucketCheckError';
}

const CREDENTIAL_ERRORS = new Set([
  'AccessDenied',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  // versitygw's answer for an unknown access key (AWS says InvalidAccessKeyId).
  'XAdminUserNotFound',
]);

/**
 * The network error code (ECONNREFUSED, …). Under Jest's VM realm the SDK wraps Node's errors into a plain
 * "AWS SDK error wrapper for Error: connect ECONNREFUSED …" message, so the message is read too.
 */
function networkCode(error: SdkError): string | undefined {
  if (error.code && /^E[A-Z_]+$/.test(error.code)) return error.code;
  return /\b(E(?:CONNREFUSED|CONNRESET|NOTFOUND|AI_AGAIN|TIMEDOUT|PIPE|HOSTUNREACH|NETUNREACH))\b/.exec(
    error.message ?? '',
  )?.[1];
}

/** Why a bucket cannot be used, in words an operator acts on. */
export function bucketProblem(error: unknown): string {
  const e = (error ?? {}) as SdkError;
  const httpStatus = status(error);
  const code = networkCode(e);
  if (code === 'ECONNREFUSED') return 'the connection was refused (is the S3 server running?)';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'the host name does not resolve';
  if (e.name === 'TimeoutError' || code === 'ETIMEDOUT') return 'the endpoint did not answer in time';
  if (e.name && CREDENTIAL_ERRORS.has(e.name)) {
    return `access denied (${e.name}: check S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY and the bucket policy)`;
  }
  if (e.name === 'NoSuchBucket' || httpStatus === 404) return 'the bucket does not exist';
  if (httpStatus === 403)
    return 'access denied (check S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY and the bucket policy)';
  if (httpStatus === 301) return 'the bucket is in another region than S3_REGION';
  return describeS3Error(error);
}
