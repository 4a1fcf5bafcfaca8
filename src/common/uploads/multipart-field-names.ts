import { HttpStatus } from '@nestjs/common';
import type { Request } from 'express';
import { ApiError } from '../errors/api-error';

/**
 * Field names that name an object's prototype chain. multer's append-field silently drops them, so a body with a
 * `__proto__` part would otherwise be accepted as if the part were not there; they are refused outright instead.
 */
const RESERVED_NAME = /(^|\[)(__proto__|constructor|prototype)(\]|$)/;

export function isReservedFieldName(name: string): boolean {
  return RESERVED_NAME.test(name);
}

/**
 * A multer `streamHandler`: pipes the request into busboy (multer's default) and fails the parse with 400
 * INVALID_MULTIPART on a field or file part whose name is a prototype key.
 */
export function guardedStreamHandler(req: Request, busboy: NodeJS.WritableStream): void {
  const parser = busboy as NodeJS.WritableStream & NodeJS.EventEmitter;
  if (req.destroyed) {
    // The connection died while guards and records ran (e.g. the client sent bytes past its Content-Length and
    // Node's parser dropped the socket). multer listens for 'close' only from now on, so it would wait forever.
    process.nextTick(() =>
      parser.emit(
        'error',
        new ApiError(
          HttpStatus.BAD_REQUEST,
          'CLIENT_DISCONNECTED',
          'The client disconnected before the upload finished',
        ),
      ),
    );
    return;
  }
  const refuse = (name: unknown) => {
    if (typeof name !== 'string' || !isReservedFieldName(name)) return;
    parser.emit(
      'error',
      new ApiError(
        HttpStatus.BAD_REQUEST,
        'INVALID_MULTIPART',
        `The field name ${JSON.stringify(name)} is not allowed`,
      ),
    );
  };
  parser.on('field', refuse);
  parser.on('file', refuse);
  req.pipe(busboy);
}
