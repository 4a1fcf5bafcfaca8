import { storageKey } from '../../storage';

/** The storage key of an IETF-draft upload's bytes: an assembly appended to by each request. */
export function ietfDataKey(uploadId: string): string {
  return storageKey('ietf', uploadId);
}
