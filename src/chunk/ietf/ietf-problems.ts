import { HttpStatus } from '@nestjs/common';
import { ApiError } from '../../common/errors/api-error';
import { ErrorCode } from '../../common/errors/error-code';

const PROBLEM_TYPES = 'https://iana.org/assignments/http-problem-types#';

/**
 * An error answer of the IETF draft's routes: the shared error body plus, for the draft's own problems, its problem
 * `type`, `title` and extension members (answered as `application/problem+json`), and the response header fields
 * the draft requires beside it (the correct `Upload-Offset` of a 409, the `Upload-Limit` of a 413). Shaped by the
 * global filter, after IetfProblemFilter has set the headers.
 */
export class IetfAnswerError extends ApiError {
  constructor(
    status: number,
    code: string,
    message: string,
    readonly headers: Record<string, string> = {},
    problem?: { type: string; title: string; members?: Record<string, unknown> },
  ) {
    super(
      status,
      code,
      message,
      problem ? { type: `${PROBLEM_TYPES}${problem.type}`, title: problem.title, ...problem.members } : {},
    );
  }

  get isProblem(): boolean {
    return typeof (this.getResponse() as { type?: unknown }).type === 'string';
  }
}

/** 409: the append's Upload-Offset is not the upload's offset; the answer carries the right one. */
export function mismatchingOffset(expected: number, provided: number): IetfAnswerError {
  return new IetfAnswerError(
    HttpStatus.CONFLICT,
    ErrorCode.UPLOAD_OFFSET_CONFLICT,
    `The upload's offset is ${expected}, not ${provided}`,
    { 'Upload-Offset': String(expected) },
    {
      type: 'mismatching-upload-offset',
      title: 'offset from request does not match offset of resource',
      members: { 'expected-offset': expected, 'provided-offset': provided },
    },
  );
}

/** 400: the upload is complete already; nothing more can be appended. */
export function completedUpload(): IetfAnswerError {
  return new IetfAnswerError(
    HttpStatus.BAD_REQUEST,
    ErrorCode.UPLOAD_COMPLETED,
    'The upload is already complete',
    { 'Upload-Complete': '?1' },
    { type: 'completed-upload', title: 'upload is already completed' },
  );
}

/** 400: Upload-Length, Content-Length with Upload-Complete: ?1, or the recorded length disagree. */
export function inconsistentLength(): IetfAnswerError {
  return new IetfAnswerError(
    HttpStatus.BAD_REQUEST,
    ErrorCode.INCONSISTENT_UPLOAD_LENGTH,
    'The upload length values disagree (Upload-Length, Content-Length, the length recorded before)',
    {},
    { type: 'inconsistent-upload-length', title: 'inconsistent length values for upload' },
  );
}

/** 413 over max-size, with the limits (the draft: a 413 caused by upload limits carries Upload-Limit). */
export function overMaxSize(maxSize: number, uploadLimit: string): IetfAnswerError {
  return new IetfAnswerError(
    HttpStatus.PAYLOAD_TOO_LARGE,
    ErrorCode.PAYLOAD_TOO_LARGE,
    `The upload is larger than the limit of ${maxSize} bytes`,
    { 'Upload-Limit': uploadLimit },
  );
}

/** 400: an append that does not complete its upload declares fewer bytes than min-append-size. */
export function appendTooSmall(minAppend: number, sent: number, uploadLimit: string): IetfAnswerError {
  return new IetfAnswerError(
    HttpStatus.BAD_REQUEST,
    ErrorCode.APPEND_TOO_SMALL,
    `An append that does not complete the upload carries at least ${minAppend} bytes (min-append-size), not ${sent}`,
    { 'Upload-Limit': uploadLimit },
  );
}

export function unsupportedInteropVersion(sent: string): ApiError {
  return new ApiError(
    HttpStatus.BAD_REQUEST,
    ErrorCode.UNSUPPORTED_INTEROP_VERSION,
    `Upload-Draft-Interop-Version ${sent} is not supported; this server speaks interop version 8`,
    { supported: [8] },
  );
}

export function missingField(name: string, what: string): ApiError {
  return new ApiError(HttpStatus.BAD_REQUEST, ErrorCode.BAD_REQUEST, `${name} is required: ${what}`);
}

export function notPartialUpload(): ApiError {
  return new ApiError(
    HttpStatus.UNSUPPORTED_MEDIA_TYPE,
    ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    'An append is sent as Content-Type: application/partial-upload',
  );
}

export function uploadNotFound(): ApiError {
  return new ApiError(HttpStatus.NOT_FOUND, ErrorCode.NOT_FOUND, 'Upload not found');
}

export function uploadGone(status: string): ApiError {
  return new ApiError(HttpStatus.GONE, ErrorCode.UPLOAD_GONE, `The upload is ${status}`);
}

/** 409 to a request another request of the same upload took over from (its stored bytes are kept). */
export function superseded(offset: number): IetfAnswerError {
  return new IetfAnswerError(
    HttpStatus.CONFLICT,
    ErrorCode.UPLOAD_SUPERSEDED,
    'A newer request to this upload took over; its offset is in Upload-Offset',
    { 'Upload-Offset': String(offset) },
  );
}

export function cancelled(reason: string): ApiError {
  return new ApiError(HttpStatus.GONE, ErrorCode.UPLOAD_CANCELLED, `The upload was cancelled: ${reason}`);
}

/** 422: the completed upload does not match the Repr-Digest sent at creation. */
export function digestMismatch(expected: string, actual: string): ApiError {
  return new ApiError(
    HttpStatus.UNPROCESSABLE_ENTITY,
    ErrorCode.CHECKSUM_MISMATCH,
    'The upload does not match its Repr-Digest; nothing was kept',
    { expected, actual },
  );
}
