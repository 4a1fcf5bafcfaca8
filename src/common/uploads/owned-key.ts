import { Types } from 'mongoose';
import { UPLOAD_ID_PATTERN } from './upload-status';

/**
 * The primary key (`_id`) of a record that belongs to one user: the owner's id and an id unique per owner (an
 * upload id, a seed fileId). Keying by owner makes a lookup by key owner-scoped by construction, and a filter on
 * `_id` alone is the only one the embedded FerretDB (SQLite) answers from an index: any other filter scans the
 * whole collection, so an upload's every write grew slower as the collection grew (docs/architecture.md).
 * A malformed user id throws.
 */
export function ownedKey(userId: string, id: string): string {
  return `${new Types.ObjectId(userId).toHexString()}:${id}`;
}

/** The key of an upload's records, for checking one that came back from a client (a list cursor). */
export const UPLOAD_KEY_PATTERN = new RegExp(`^[0-9a-f]{24}:${UPLOAD_ID_PATTERN.source.slice(1)}`);
