import type { Request } from 'express';
import type { StorageEngine } from 'multer';
import { pipeline } from 'node:stream/promises';
import { mediaKey, StorageDriver } from '../../storage';
import { UploadMeter } from '../../upload-core';
import { isAllowedForCategory, SNIFF_BYTES, sniffMediaType } from '../mime-sniffer';
import { sanitizeOriginalName } from './original-name';
import { badMultipart, tooLarge, unsupportedType } from './upload-errors';
import { fileSizeFromBody } from './body-framing';
import { FieldsSoFar, validateFieldsSoFar } from './upload-fields';
import { ReceivedFile, UploadSession } from './upload-session';
import { headThenRest, readHead } from './stream-head';

/** The multipart field that carries the file. */
export const FILE_FIELD = 'file';

/** Records the fields received before the file on the upload's record, before the file streams. */
export type DescribeUpload = (
  session: UploadSession,
  fields: FieldsSoFar,
  originalName?: string,
) => Promise<void>;

/**
 * Multer storage engine for POST /api/upload/media. It never buffers the file: it reads the first SNIFF_BYTES,
 * sniffs the type (415 before a byte is written when it is not allowed), then streams into tmp/ through a meter
 * that hashes, counts, enforces the size limit and feeds live progress. Backpressure flows from the disk back to
 * the socket. Every per-request decision lives in the request's UploadSession.
 */
export class MediaStorageEngine implements StorageEngine {
  constructor(
    private readonly storage: StorageDriver,
    private readonly describe: DescribeUpload,
  ) {}

  _handleFile(
    req: Request,
    file: Express.Multer.File,
    callback: (error?: unknown, info?: Partial<Express.Multer.File>) => void,
  ): void {
    const session = UploadSession.of(req);
    // Read now: the fields after the file are parsed later.
    const partIndex = session.fieldParts;
    const receiving = this.receive(session, req, file, partIndex);
    session.receiving = receiving;
    receiving.then(
      (received) => callback(null, { size: received.size }),
      (error: Error) => callback(session.fail(error)),
    );
  }

  _removeFile(req: Request, _file: Express.Multer.File, callback: (error: Error | null) => void): void {
    this.storage.remove(UploadSession.of(req).stagedKey).then(() => callback(null), callback);
  }

  private async receive(
    session: UploadSession,
    req: Request,
    file: Express.Multer.File,
    partIndex: number,
  ): Promise<ReceivedFile> {
    if (file.fieldname !== FILE_FIELD)
      throw badMultipart(`The file must be sent in the "${FILE_FIELD}" field`);
    if (session.fileStarted) throw badMultipart('Send exactly one file');
    session.fileStarted = true;
    const stream = file.stream;
    // busboy stops the file at the limit (+1 byte) and says so; the meter checks too, whichever comes first.
    stream.once('limit', () => session.fail(tooLarge(session.maxBytes)));

    // Fields sent before the file (the usual order: Dart's MultipartRequest, FormData) are checked now, and
    // recorded, so an upload cancelled or failed mid-file is listed with what the user sent.
    const fields = await validateFieldsSoFar(req.body as Record<string, unknown>);
    session.declaredCategory = fields.fileType;
    const originalName = sanitizeOriginalName(file.originalname);
    this.reportFileSize(session, partIndex, fields.fileType !== undefined);
    await this.describe(session, fields, originalName);
    session.throwIfFailed();

    const head = await readHead(stream, SNIFF_BYTES, session.signal);
    const type = await sniffMediaType(head.bytes);
    // Without a declared category yet, anything on the union (camera) list may continue; the category's own
    // list is checked once the fields after the file are parsed.
    if (!type || !isAllowedForCategory(session.declaredCategory ?? 'camera', type)) {
      throw unsupportedType(session.declaredCategory);
    }
    session.throwIfFailed();
    // Where promoting would copy the whole file again (S3), the sniffed type names its final key already.
    if (this.storage.promoteCopies) session.stagedKey = mediaKey(session.userId, session.uploadId, type.ext);

    const meter = new UploadMeter({
      limit: session.maxBytes,
      tooLarge: () => tooLarge(session.maxBytes),
      progress: { add: (bytes) => session.live.add(bytes) },
      // A fast client's 64 KiB socket reads are batched towards the 1 MiB file writes.
      highWaterMark: 256 * 1024,
    });
    await pipeline(headThenRest(head, stream), meter, this.storage.openWrite(session.stagedKey), {
      signal: session.signal,
    });
    session.throwIfFailed();
    session.live.setTotal(meter.bytes);
    session.file = { type, size: meter.bytes, sha256: meter.digest(), originalName };
    return session.file;
  }

  /**
   * Progress reports the file's size, not the body's: exact when the fields came first (the file is then the
   * last part), an upper bound (`totalIsEstimate`) when `fileType` has not arrived, as fields then follow.
   */
  private reportFileSize(session: UploadSession, partIndex: number, fieldsFirst: boolean): void {
    const head = session.bodyHead.take();
    const size = fileSizeFromBody(session.declaredLength, head, session.boundary, partIndex);
    if (size !== null) session.live.setTotal(size, !fieldsFirst);
  }
}
