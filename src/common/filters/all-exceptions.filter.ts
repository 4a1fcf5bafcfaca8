import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { isDatabaseUnavailableError } from '../errors/database-errors';
import { ErrorCode, errorCodeForStatus } from '../errors/error-code';
import { closeAfterAnswer } from '../http/close-after-answer';

interface ErrorBody {
  success: false;
  statusCode: number;
  error: string;
  message: string;
  requestId: string | undefined;
  [detail: string]: unknown;
}

/** Errors from Express middleware (body-parser, multer) carry their HTTP status on the error itself. */
interface StatusError {
  status?: number;
  statusCode?: number;
  expose?: boolean;
  message?: string;
}

const STABLE_CODE = /^[A-Z][A-Z0-9_]+$/;

function omit(record: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([key]) => !keys.includes(key)));
}

/** The request body was cut short by the client (connection closed before the body ended). */
function abortedByClient(request: Request): boolean {
  return !request.complete && (request.destroyed || request.socket.destroyed);
}

function errorMessage(exception: unknown): string {
  return exception instanceof Error ? exception.message : String(exception);
}

/**
 * The one place that shapes error bodies: `{ success: false, statusCode, error, message, requestId }`.
 * 5xx bodies say nothing about the cause; the cause is logged with the request id instead.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Exceptions');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const request = ctx.getRequest<Request>();
    const response = ctx.getResponse<Response>();
    const body = this.toBody(exception, typeof request.id === 'string' ? request.id : '');

    if (body.statusCode >= 500 && abortedByClient(request)) {
      // The client went away mid-body (multer then fails with "Request aborted"): routine, not a server fault.
      this.logger.log(
        { requestId: body.requestId, reason: errorMessage(exception) },
        'Client aborted the request',
      );
    } else if (body.statusCode >= 500) {
      this.logger.error({ err: exception, requestId: body.requestId }, 'Request failed');
    }
    if (response.headersSent) {
      // A streamed response already started: the only honest signal left is to cut the connection.
      response.destroy();
      return;
    }
    // An answer before the body's end (a refused upload) closes the connection instead of reading the rest.
    closeAfterAnswer(request, response);
    // Every 429 says when to come back, in the standard header as well as in the body.
    if (body.statusCode === 429 && typeof body.retryAfter === 'number') {
      response.setHeader('Retry-After', String(body.retryAfter));
    }
    response.status(body.statusCode).json(body);
  }

  private toBody(exception: unknown, requestId: string): ErrorBody {
    if (exception instanceof HttpException) {
      const statusCode = exception.getStatus();
      const payload = exception.getResponse();
      const details =
        typeof payload === 'object' && payload !== null ? (payload as Record<string, unknown>) : {};
      const rawMessage = details.message ?? (typeof payload === 'string' ? payload : exception.message);
      // Nest's built-in exceptions put a phrase ("Bad Request") in `error`; only ApiError sets a stable code.
      const code =
        typeof details.error === 'string' && STABLE_CODE.test(details.error) ? details.error : undefined;
      const hidden = statusCode >= 500 && !code;
      const message = Array.isArray(rawMessage)
        ? rawMessage.join('; ')
        : typeof rawMessage === 'string'
          ? rawMessage
          : exception.message;
      return {
        success: false,
        statusCode,
        error: code ?? errorCodeForStatus(statusCode),
        message: hidden ? 'Internal server error' : message,
        requestId,
        ...(code ? omit(details, ['error', 'message', 'statusCode', 'success']) : {}),
      };
    }
    const statusError = (exception ?? {}) as StatusError;
    const status = statusError.status ?? statusError.statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      return {
        success: false,
        statusCode: status,
        error: errorCodeForStatus(status),
        message: statusError.expose === false ? 'Bad request' : (statusError.message ?? 'Bad request'),
        requestId,
      };
    }
    if (isDatabaseUnavailableError(exception)) {
      return {
        success: false,
        statusCode: HttpStatus.SERVICE_UNAVAILABLE,
        error: ErrorCode.SERVICE_UNAVAILABLE,
        message: 'The service is temporarily unavailable; try again later',
        requestId,
      };
    }
    return {
      success: false,
      statusCode: HttpStatus.INTERNAL_SERVER_ERROR,
      error: ErrorCode.INTERNAL_ERROR,
      message: 'Internal server error',
      requestId,
    };
  }
}
