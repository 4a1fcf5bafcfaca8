import { Logger, OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';

/** Every key and channel this service uses starts with this, so it can share a Redis with others. */
export const REDIS_PREFIX = 'media-upload:';

const CONNECT_TIMEOUT_MS = 5_000;

/**
 * The shared Redis command connection (REDIS_URL). Pub/sub subscribes on a duplicate of it, since a subscribed
 * connection can run nothing else. Closed when the app shuts down, after the users' own shutdown hooks.
 */
export class RedisConnection implements OnApplicationShutdown {
  private constructor(readonly client: Redis) {}

  /** Connects and checks the server answers; otherwise rejects with one line naming REDIS_URL. */
  static async connect(url: string, name = 'media-upload'): Promise<RedisConnection> {
    return new RedisConnection(await connectRedis(url, name));
  }

  async onApplicationShutdown(): Promise<void> {
    await quit(this.client);
  }
}

/** A connected ioredis client; rejects with one clear line when the server cannot be reached. */
export async function connectRedis(url: string, name: string): Promise<Redis> {
  const logger = new Logger('Redis');
  const client = new Redis(url, {
    lazyConnect: true,
    connectionName: name,
    connectTimeout: CONNECT_TIMEOUT_MS,
    // A command waits through a short outage (reconnects every ≤ 1 s) instead of failing on the first blip.
    maxRetriesPerRequest: 3,
    retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
  });
  let lastError = '';
  let connected = false;
  client.on('error', (error: Error) => {
    // At startup the failure is the thrown error; later, one line per distinct failure, not one per reconnect.
    if (connected && error.message !== lastError) logger.warn(`${redact(url)}: ${error.message}`);
    lastError = error.message;
  });
  client.on('ready', () => (lastError = ''));
  try {
    await client.connect();
    await client.ping();
    connected = true;
    return client;
  } catch (error) {
    client.disconnect();
    throw startupError(
      `Cannot reach Redis at ${redact(url)} (REDIS_URL): ${lastError || (error as Error).message}`,
    );
  }
}

/** A startup failure whose whole story is its message: Nest's ExceptionHandler prints it as one line. */
function startupError(message: string): Error {
  const error = new Error(message);
  error.stack = `${error.name}: ${message}`;
  return error;
}

/** Closes politely, or drops the socket when the server is gone. */
export async function quit(client: Redis): Promise<void> {
  if (client.status === 'end') return;
  try {
    await client.quit();
  } catch {
    client.disconnect();
  }
}

/** REDIS_URL without its password, for logs. */
export function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'REDIS_URL';
  }
}
