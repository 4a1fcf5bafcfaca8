import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { EnvironmentVariables } from './env.schema';

/** The typed configuration every module reads through `ConfigService<AppConfig, true>`. */
export interface AppConfig {
  env: EnvironmentVariables['NODE_ENV'];
  http: {
    host: string;
    port: number;
    corsOrigins: string[] | '*';
    trustProxy: boolean | number | string;
    /** PUBLIC_URL without a trailing slash; undefined when unset. */
    publicUrl?: string;
    headersTimeoutMs: number;
    idleTimeoutMs: number;
  };
  log: { level: string };
  database: {
    uri?: string;
    dbName?: string;
    poolSize: number;
    embeddedDataDir: string;
    embeddedCacheDir: string;
  };
  /** Shared state between instances (src/coordination); `redisUrl` unset = one instance, in process. */
  coordination: { redisUrl?: string };
  auth: {
    jwtSecret: string;
    /** True when no JWT_SECRET was given and a random one was made for this process (development only). */
    jwtSecretGenerated: boolean;
    jwtExpiresInSeconds: number;
    jwtIssuer: string;
    jwtAudience: string;
    argon2: { memoryCost: number; timeCost: number; parallelism: number };
    /** Per-account login throttling (see docs/security.md). */
    loginBackoff: {
      freeFailures: number;
      maxDelaySeconds: number;
      accountFreeFailures: number;
      accountMaxDelaySeconds: number;
    };
  };
  storage: { uploadDir: string; minFreeDiskBytes: number };
  /** Which driver keeps upload bytes (STORAGE_DRIVER). */
  storageDriver: 'local' | 's3';
  /** The S3 bucket and client settings (used with STORAGE_DRIVER=s3; see src/storage/s3). */
  s3: {
    /** Unset: AWS's regional endpoint. */
    endpoint?: string;
    region: string;
    /** Always set when storageDriver is `s3` (validated at boot). */
    bucket?: string;
    /** Unset: the AWS SDK's default credential chain. */
    credentials?: { accessKeyId: string; secretAccessKey: string };
    forcePathStyle: boolean;
    partSizeBytes: number;
    queueSize: number;
    downloadMode: 'stream' | 'redirect';
    presignEndpoint?: string;
  };
  uploads: {
    maxMediaBytes: number;
    maxChunkBytes: number;
    maxResumableBytes: number;
    minResumableAppendBytes: number;
    expirySeconds: number;
    sweepIntervalSeconds: number;
    progressPersistMs: number;
    progressEventMs: number;
    signedUrlTtlSeconds: number;
    sseTicketTtlSeconds: number;
  };
  limits: {
    /** Rate-limit window (seconds) and the requests allowed in it. */
    throttleTtlSeconds: number;
    authPerWindow: number;
    uploadsPerWindow: number;
    /** Token buckets: `uploadsPerWindow` / `chunksPerBurst` tokens, refilled completely in these many seconds. */
    uploadRefillSeconds: number;
    chunksPerBurst: number;
    chunkRefillSeconds: number;
    /** Per-user storage quota in bytes; 0 = unlimited. */
    userQuotaBytes: number;
  };
  /** Media processing (src/processing): the tools, the probe at finalisation and the background jobs. */
  processing: {
    ffprobePath: string;
    ffmpegPath: string;
    heifConvertPath: string;
    concurrency: number;
    jobTimeoutMs: number;
    attempts: number;
    probeTimeoutMs: number;
    maxImagePixels: number;
    /** Backoff of the first retry of a failed job; doubles per retry. */
    retryDelayMs: number;
    /** BullMQ lock duration and stalled-job check interval (REDIS_URL). */
    lockMs: number;
  };
  /** Limits on upload bodies while they stream, per user and instance (see src/upload-limits). */
  uploadBodies: {
    maxConcurrentPerUser: number;
    /** 0 turns the throughput check off. */
    minBytesPerSecond: number;
    throughputWindowSeconds: number;
  };
}

function parseTrustProxy(value: string): boolean | number | string {
  if (value === 'true') return true;
  if (value === 'false') return false;
  if (/^\d+$/.test(value)) return Number(value);
  return value;
}

function parseOrigins(value: string): string[] | '*' {
  if (value.trim() === '*') return '*';
  return value
    .split(',')
    .map((origin) => origin.trim())
    .filter(Boolean);
}

export function buildAppConfig(env: EnvironmentVariables): AppConfig {
  return {
    env: env.NODE_ENV,
    http: {
      host: env.HOST,
      port: env.PORT,
      corsOrigins: parseOrigins(env.CORS_ORIGINS),
      trustProxy: parseTrustProxy(env.TRUST_PROXY),
      publicUrl: env.PUBLIC_URL?.replace(/\/+$/, ''),
      headersTimeoutMs: env.HTTP_HEADERS_TIMEOUT_MS,
      idleTimeoutMs: env.HTTP_IDLE_TIMEOUT_MS,
    },
    log: { level: env.LOG_LEVEL },
    database: {
      uri: env.MONGODB_URI,
      dbName: env.MONGODB_DB,
      poolSize: env.MONGODB_POOL_SIZE,
      embeddedDataDir: resolve(env.EMBEDDED_DB_DIR),
      embeddedCacheDir: resolve(env.EMBEDDED_DB_CACHE_DIR),
    },
    coordination: { redisUrl: env.REDIS_URL },
    auth: {
      jwtSecret: env.JWT_SECRET ?? randomBytes(48).toString('base64url'),
      jwtSecretGenerated: !env.JWT_SECRET,
      jwtExpiresInSeconds: env.JWT_EXPIRES_IN,
      jwtIssuer: env.JWT_ISSUER,
      jwtAudience: env.JWT_AUDIENCE,
      argon2: { memoryCost: env.ARGON2_MEMORY_KIB, timeCost: env.ARGON2_TIME_COST, parallelism: 1 },
      loginBackoff: {
        freeFailures: env.LOGIN_FREE_FAILURES,
        maxDelaySeconds: env.LOGIN_MAX_DELAY,
        accountFreeFailures: env.LOGIN_ACCOUNT_FREE_FAILURES,
        accountMaxDelaySeconds: env.LOGIN_ACCOUNT_MAX_DELAY,
      },
    },
    storage: { uploadDir: resolve(env.UPLOAD_DIR), minFreeDiskBytes: env.MIN_FREE_DISK_BYTES },
    storageDriver: env.STORAGE_DRIVER,
    s3: {
      endpoint: env.S3_ENDPOINT?.replace(/\/+$/, ''),
      region: env.S3_REGION,
      bucket: env.S3_BUCKET,
      credentials:
        env.S3_ACCESS_KEY_ID && env.S3_SECRET_ACCESS_KEY
          ? { accessKeyId: env.S3_ACCESS_KEY_ID, secretAccessKey: env.S3_SECRET_ACCESS_KEY }
          : undefined,
      forcePathStyle: env.S3_FORCE_PATH_STYLE === 'true',
      partSizeBytes: env.S3_PART_SIZE,
      queueSize: env.S3_QUEUE_SIZE,
      downloadMode: env.S3_DOWNLOAD_MODE,
      presignEndpoint: env.S3_PRESIGN_ENDPOINT?.replace(/\/+$/, ''),
    },
    uploads: {
      maxMediaBytes: env.MAX_MEDIA_BYTES,
      maxChunkBytes: env.MAX_CHUNK_BYTES,
      maxResumableBytes: env.MAX_RESUMABLE_BYTES,
      minResumableAppendBytes: env.MIN_RESUMABLE_APPEND_BYTES,
      expirySeconds: env.UPLOAD_EXPIRY,
      sweepIntervalSeconds: env.SWEEP_INTERVAL,
      progressPersistMs: env.PROGRESS_PERSIST_MS,
      progressEventMs: env.PROGRESS_EVENT_MS,
      signedUrlTtlSeconds: env.SIGNED_URL_TTL,
      sseTicketTtlSeconds: env.SSE_TICKET_TTL,
    },
    limits: {
      throttleTtlSeconds: env.THROTTLE_TTL,
      authPerWindow: env.THROTTLE_AUTH_LIMIT,
      uploadsPerWindow: env.THROTTLE_UPLOAD_LIMIT,
      uploadRefillSeconds: env.THROTTLE_UPLOAD_REFILL,
      chunksPerBurst: env.THROTTLE_CHUNK_LIMIT,
      chunkRefillSeconds: env.THROTTLE_CHUNK_REFILL,
      userQuotaBytes: env.USER_QUOTA_BYTES,
    },
    processing: {
      ffprobePath: env.FFPROBE_PATH,
      ffmpegPath: env.FFMPEG_PATH,
      heifConvertPath: env.HEIF_CONVERT_PATH,
      concurrency: env.PROCESSING_CONCURRENCY,
      jobTimeoutMs: env.PROCESSING_JOB_TIMEOUT * 1000,
      attempts: env.PROCESSING_ATTEMPTS,
      probeTimeoutMs: env.PROBE_TIMEOUT_MS,
      maxImagePixels: env.MAX_IMAGE_PIXELS,
      retryDelayMs: env.PROCESSING_RETRY_DELAY_MS,
      lockMs: env.PROCESSING_LOCK_MS,
    },
    uploadBodies: {
      maxConcurrentPerUser: env.MAX_CONCURRENT_UPLOADS_PER_USER,
      minBytesPerSecond: env.UPLOAD_MIN_BYTES_PER_SECOND,
      throughputWindowSeconds: env.UPLOAD_THROUGHPUT_WINDOW,
    },
  };
}
