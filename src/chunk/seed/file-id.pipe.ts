import { Injectable, PipeTransform } from '@nestjs/common';
import { FILE_ID_PATTERN, invalidFileId } from './chunk-rules';

/** Validates a `fileId` route parameter, so nothing else reaches a query. */
@Injectable()
export class FileIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!FILE_ID_PATTERN.test(value)) throw invalidFileId();
    return value;
  }
}
