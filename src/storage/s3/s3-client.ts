import { S3Client } from '@aws-sdk/client-s3';
import { Logger } from '@nestjs/common';
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
 * A client with its own keep-alive pool. `endpoint` overrides the configured one (presigning for clients);
 * `maxAttempts: 1` is for requests whose body is a stream, which cannot be sent twice.
 */
export function createS3Client(
  options: S3StoreOptions,
  { endpoint = options.endpoint, maxAttempts }: { endpoint?: string; maxAttempts?: number } = {},
): S3Client {
  const agent = { keepAlive: true, maxSockets: 64 };
  return new S3Client({
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
  });
}
