import { createHash, Hash } from 'node:crypto';

/** Algorithms of the tus checksum extension this server accepts, advertised in `Tus-Checksum-Algorithm`. */
export const CHECKSUM_ALGORITHMS = ['sha1', 'sha256'] as const;
type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];

const DIGEST_BYTES: Record<ChecksumAlgorithm, number> = { sha1: 20, sha256: 32 };

/**
 * An error @tus/server answers with its `status_code` (it reads `status_code` and `body` from whatever is
 * thrown); `code` is the stable error code of our JSON error body.
 */
export class TusProtocolError extends Error {
  constructor(
    readonly status_code: number,
    readonly code: string,
    readonly body: string,
  ) {
    super(body);
  }
}

export function checksumMismatch(): TusProtocolError {
  return new TusProtocolError(
    460,
    'CHECKSUM_MISMATCH',
    'The Upload-Checksum does not match the bytes received; the chunk was discarded',
  );
}

function badChecksum(message: string): TusProtocolError {
  return new TusProtocolError(400, 'INVALID_CHECKSUM', message);
}

/** An `Upload-Checksum: <algorithm> <base64 digest>` header, hashed as the chunk streams to disk. */
export class ChunkChecksum {
  private readonly hash: Hash;

  private constructor(
    private readonly expected: Buffer,
    algorithm: ChecksumAlgorithm,
  ) {
    this.hash = createHash(algorithm);
  }

  /** Parses the header; undefined when absent, a 400 tus error when malformed or of another algorithm. */
  static fromHeader(header: string | string[] | undefined): ChunkChecksum | undefined {
    if (header === undefined) return undefined;
    const [algorithm, digest, extra] = String(header).trim().split(/\s+/);
    if (!CHECKSUM_ALGORITHMS.includes(algorithm as ChecksumAlgorithm)) {
      throw badChecksum(`Upload-Checksum algorithm must be one of ${CHECKSUM_ALGORITHMS.join(', ')}`);
    }
    const expected = Buffer.from(digest ?? '', 'base64');
    const valid = /^[A-Za-z0-9+/]+={0,2}$/.test(digest ?? '');
    if (extra !== undefined || !valid || expected.length !== DIGEST_BYTES[algorithm as ChecksumAlgorithm]) {
      throw badChecksum('Upload-Checksum must be "<algorithm> <base64 digest>"');
    }
    return new ChunkChecksum(expected, algorithm as ChecksumAlgorithm);
  }

  update(chunk: Buffer): void {
    this.hash.update(chunk);
  }

  matches(): boolean {
    return this.hash.digest().equals(this.expected);
  }
}
