import { S3Client, ServiceInputTypes, ServiceOutputTypes } from '@aws-sdk/client-s3';
import { Logger } from '@nestjs/common';
// Type-only: the middleware type of the SDK's own stack (@smithy/types comes with @aws-sdk/client-s3).
import type { FinalizeRequestMiddleware } from '@smithy/types';
import type { S3StoreOptions } from './s3-store-options';

/** Connecting to S3 takes milliseconds; a host that does not answer in this time is down. */
const CONNECT_TIMEOUT_MS = 5_000;
/**
 * A socket silent for this long is dead. Of the order of the HTTP idle timeout: a download paused by a slow client
 * leaves the S3 socket silent too, and must not be cut sooner than the client connection would be.
 */
const SOCKET_IDLE_TIMEOUT_MS = 120_000;

/**
 * The SDK logs every failed command and warns on failed streaming requests: the store turns each failure into
 * its own error, which its caller logs once with the request id, so these go to debug (warnings) or nowhere.
 */
const sdkLogger = (() => {
  const logger = new Logger('S3Client');
  const quiet = () => undefined;
  const toDebug = (...content: unknown[]) =>
    logger.debug(content.filter((item) => typeof item === 'string').join(' '));
  return { trace: quiet, debug: quiet, info: quiet, warn: toDebug, error: quiet };
})();

/**
 * A body that carries a flexible checksum (the CRC32 the SDK adds to every part and PUT by default, which S3
 * verifies against the bytes and which the signature covers as a header) is signed as UNSIGNED-PAYLOAD: otherwise
 * SigV4 hashes every body buffer with SHA-256 too, on the event loop that also parses and hashes the upload, and
 * the server verifies that hash as well. Bodies without a checksum keep their signed SHA-256.
 */
const unsignedPayloadWithChecksum: FinalizeRequestMiddleware<ServiceInputTypes, ServiceOutputTypes> =
  (next) => (args) => {
    const headers = (args.request as { headers?: Record<string, string> }).headers;
    if (headers) {
      const names = Object.keys(headers).map((name) => name.toLowerCase());
      if (
        names.some((name) => name.startsWith('x-amz-checksum-')) &&
        !names.includes('x-amz-content-sha256')
      ) {
        headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
      }
    }
    return next(args);
  };

/**
 * A client with its own keep-alive pool. `endpoint` overrides the configured one (presigning for clients);
 * `maxAttempts: 1` is for requests whose body is a stream, which cannot be sent twice.
 */
export function createS3Client(
  options: S3StoreOptions,
  { endpoint = options.endpoint, maxAttempts }: { endpoint?: string; maxAttempts?: number } = {},
): S3Client {
  const agent = { keepAlive: true, maxSockets: 64 };
  const client = new S3Client({
    region: options.region,
    endpoint,
    maxAttempts,
    forcePathStyle: options.forcePathStyle,
    credentials: options.credentials,
    logger: sdkLogger,
    // The NodeHttpHandler's constructor options (the SDK builds the handler from them).
    requestHandler: {
      connectionTimeout: CONNECT_TIMEOUT_MS,
      socketTimeout: SOCKET_IDLE_TIMEOUT_MS,
      httpAgent: agent,
      httpsAgent: agent,
    },
    // The SDK sends bodies ≥ 2 MiB (every part) with `Expect: 100-continue`, which costs a round trip per part and,
    // with an agent of the SDK's making, a new connection per part instead of the keep-alive pool.
    expectContinueHeader: false,
  });
  client.middlewareStack.addRelativeTo(unsignedPayloadWithChecksum, {
    name: 'unsignedPayloadWithChecksum',
    relation: 'before',
    toMiddleware: 'httpSigningMiddleware',
  });
  return client;
}
