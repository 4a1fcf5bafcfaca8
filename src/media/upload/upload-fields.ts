import { plainToInstance } from 'class-transformer';
// eslint-disable-next-line no-restricted-imports -- require cycle: bootstrap's barrel loads configureApp, which reaches MediaModule
import { createValidationPipe } from '../../bootstrap/validation.pipe';
import { MediaCategory } from '../../common/uploads/upload-status';
import { MediaUploadFieldsDto } from '../dto/media-upload-fields.dto';

const pipe = createValidationPipe();

/** Validates the form fields exactly as the global pipe validates a JSON body (same 400 body). */
export async function validateUploadFields(body: Record<string, unknown>): Promise<MediaUploadFieldsDto> {
  const value: unknown = await pipe.transform(
    { ...body },
    { type: 'body', metatype: MediaUploadFieldsDto, data: undefined },
  );
  return plainToInstance(MediaUploadFieldsDto, value);
}

/** The fields received so far: `fileType` is absent when the client has not sent it yet. */
export type FieldsSoFar = Omit<MediaUploadFieldsDto, 'fileType'> & { fileType?: MediaCategory };

/**
 * Validates the fields that arrived before the file part, so a bad field fails before any byte is stored; a
 * missing `fileType` is not an error yet (it may follow the file).
 */
export async function validateFieldsSoFar(body: Record<string, unknown>): Promise<FieldsSoFar> {
  const declared = 'fileType' in body;
  const fields: FieldsSoFar = await validateUploadFields(declared ? body : { ...body, fileType: 'camera' });
  if (!declared) delete fields.fileType;
  return fields;
}
