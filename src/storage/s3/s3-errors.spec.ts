import type { ArgumentsHost } from '@nestjs/common';
import { AllExceptionsFilter } from '../../common/filters/all-exceptions.filter';
import { bucketProblem, isMissingObject, StorageUnavailableError, storageFailure } from './s3-errors';

/** The filter's view of one request: what it answered. */
function answer(exception: unknown): { status: number; body: Record<string, unknown> } {
  const sent: { status: number; body: Record<string, unknown> } = { status: 0, body: {} };
  const response = {
    headersSent: false,
    setHeader: () => undefined,
    status(code: number) {
      sent.status = code;
      return this;
    },
    json(body: Record<string, unknown>) {
      sent.body = body;
    },
  };
  const request = {
    id: 'req-1',
    complete: true,
    destroyed: false,
    socket: { destroyed: false },
    headers: {},
  };
  const host = {
    switchToHttp: () => ({ getRequest: () => request, getResponse: () => response }),
  } as unknown as ArgumentsHost;
  new AllExceptionsFilter().catch(exception, host);
  return sent;
}

describe('S3 errors', () => {
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });

  it('answers a storage failure with 503 STORAGE_UNAVAILABLE in the shared error body, without the cause', () => {
    const { status, body } = answer(storageFailure('write media/u/1.jpg', refused));
    expect(status).toBe(503);
    expect(body).toEqual({
      success: false,
      statusCode: 503,
      error: 'STORAGE_UNAVAILABLE',
      message: 'The storage is temporarily unavailable; try again later',
      requestId: 'req-1',
    });
  });

  it('keeps the cause and the operation for the log line', () => {
    const error = storageFailure('write media/u/1.jpg', refused) as StorageUnavailableError;
    expect(error.cause).toBe(refused);
    expect(String(error)).toBe(
      'StorageUnavailableError: write media/u/1.jpg failed: ECONNREFUSED (connect ECONNREFUSED 127.0.0.1:9)',
    );
  });

  it('passes aborts through unchanged', () => {
    const abort = Object.assign(new Error('aborted'), { name: 'AbortError' });
    expect(storageFailure('read x', abort)).toBe(abort);
  });

  it('tells a missing object from a missing bucket', () => {
    expect(isMissingObject({ name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } })).toBe(true);
    expect(isMissingObject({ name: 'NotFound', $metadata: { httpStatusCode: 404 } })).toBe(true);
    expect(isMissingObject({ name: 'NoSuchBucket', $metadata: { httpStatusCode: 404 } })).toBe(false);
  });

  it.each([
    [{ name: 'TimeoutError' }, 'the endpoint did not answer in time'],
    [
      { name: 'InvalidAccessKeyId', $metadata: { httpStatusCode: 403 } },
      /^access denied \(InvalidAccessKeyId/,
    ],
    [{ name: 'PermanentRedirect', $metadata: { httpStatusCode: 301 } }, /another region/],
    [{ message: 'AWS SDK error wrapper for Error: getaddrinfo ENOTFOUND s3.invalid' }, /does not resolve/],
  ])('explains %p at startup', (error, expected) => {
    expect(bucketProblem(error)).toMatch(expected);
  });
});
