import { HttpStatus, Injectable, PipeTransform } from '@nestjs/common';
import { ApiError } from '../errors/api-error';
import { ErrorCode } from '../errors/error-code';
import { UPLOAD_ID_PATTERN } from './upload-status';

/** Validates an upload id route parameter: 8-64 of `A-Z a-z 0-9 _ -`, so nothing else reaches a query or a path. */
@Injectable()
export class UploadIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!UPLOAD_ID_PATTERN.test(value)) {
      throw new ApiError(
        HttpStatus.BAD_REQUEST,
        ErrorCode.BAD_REQUEST,
        'id must be 8-64 characters of A-Z a-z 0-9 _ -',
      );
    }
    return value;
  }
}
