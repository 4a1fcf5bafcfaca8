import { ArgumentsHost, Catch } from '@nestjs/common';
import type { Response } from 'express';
import { AllExceptionsFilter } from '../../common/filters/all-exceptions.filter';
import { exposeDraftHeaders } from './ietf-cors';
import { IetfAnswerError } from './ietf-problems';

/**
 * Adds what the IETF draft requires of an error answer to the shared error body: its header fields (the right
 * `Upload-Offset`, `Upload-Limit`) and, for the draft's problem types, `Content-Type: application/problem+json`
 * (Express keeps a Content-Type set before `res.json`). The body itself is shaped by the global filter.
 */
@Catch(IetfAnswerError)
export class IetfProblemFilter extends AllExceptionsFilter {
  override catch(exception: IetfAnswerError, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    if (!response.headersSent) {
      exposeDraftHeaders(response);
      response.set(exception.headers);
      if (exception.isProblem) response.type('application/problem+json');
    }
    super.catch(exception, host);
  }
}
