import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, MinLength, ValidateIf } from 'class-validator';

/** Every environment variable the service reads, with its default. `.env.example` documents each one. */
export class EnvironmentVariables {
  @IsIn(['development', 'production', 'test'])
  NODE_ENV: 'development' | 'production' | 'test' = 'development';

  @IsString()
  HOST = '0.0.0.0';

  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 3000;

  /** Comma-separated browser origins allowed by CORS; empty means same-origin only, `*` means any. */
  @IsString()
  CORS_ORIGINS = '';

  /** Express `trust proxy` setting: `false`, `true`, a hop count, or a list of subnets. */
  @IsString()
  TRUST_PROXY = 'false';

  /**
   * The service's public base URL (`https://media.example.com`, optionally with a path prefix), used for the absolute
   * URLs it hands out (the tus `Location`). Unset: built from trusted proxy headers only, else a relative path.
   */
  @IsOptional()
  @Matches(/^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?(\/[A-Za-z0-9._~%!$&'()*+,;=:@/-]*)?$/, {
    message: 'PUBLIC_URL must be an http(s) URL without query or fragment, e.g. https://media.example.com',
  })
  PUBLIC_URL?: string;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';

  @IsOptional()
  @Matches(/^mongodb(\+srv)?:\/\//, { message: 'MONGODB_URI must start with mongodb:// or mongodb+srv://' })
  MONGODB_URI?: string;

  @IsOptional()
  @Matches(/^[A-Za-z0-9_-]{1,63}$/, { message: 'MONGODB_DB must be 1-63 letters, digits, _ or -' })
  MONGODB_DB?: string;

  /**
   * Most connections Mongoose opens. The embedded FerretDB writes through SQLite, a single writer: a large pool only
   * adds lock contention (an abort storm with 100 connections stalled it), so requests queue in the driver instead.
   */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  MONGODB_POOL_SIZE = 20;

  /**
   * Redis (`redis://[:password@]host:port[/db]`, `rediss://` for TLS) shared by every instance: upload locks, the
   * control bus, rate-limit buckets. Unset: all of it in process memory (a single instance).
   */
  @IsOptional()
  @Matches(/^rediss?:\/\/\S+$/, { message: 'REDIS_URL must start with redis:// or rediss://' })
  REDIS_URL?: string;

  @IsString()
  EMBEDDED_DB_DIR = './data';

  @IsString()
  EMBEDDED_DB_CACHE_DIR = './.cache';

  @IsOptional()
  @IsString()
  @MinLength(32, { message: 'JWT_SECRET must be at least 32 characters' })
  JWT_SECRET?: string;

  @Type(() => Number)
  @IsInt()
  @Min(60)
  @Max(7 * 24 * 3600)
  JWT_EXPIRES_IN = 3600;

  @IsString()
  JWT_ISSUER = 'media-upload-service';

  @IsString()
  JWT_AUDIENCE = 'media-upload-clients';

  @Type(() => Number)
  @IsInt()
  @Min(8192)
  ARGON2_MEMORY_KIB = 19456;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  ARGON2_TIME_COST = 2;

  @IsString()
  UPLOAD_DIR = './uploads';

  @Type(() => Number)
  @IsInt()
  @Min(0)
  MIN_FREE_DISK_BYTES = 512 * 1024 * 1024;

  /** Where upload bytes live: `local` (UPLOAD_DIR, the default) or `s3` (an S3-compatible bucket, S3_*). */
  @IsIn(['local', 's3'])
  STORAGE_DRIVER: 'local' | 's3' = 'local';

  /** S3 endpoint URL (`http://127.0.0.1:7070`, MinIO, R2, …); unset: AWS's regional endpoint for S3_REGION. */
  @IsOptional()
  @Matches(/^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?\/?$/, {
    message: 'S3_ENDPOINT must be an http(s) URL without a path, e.g. http://127.0.0.1:7070',
  })
  S3_ENDPOINT?: string;

  @Matches(/^[a-z0-9-]{2,32}$/, { message: 'S3_REGION must be a region name such as us-east-1' })
  S3_REGION = 'us-east-1';

  /** The bucket upload bytes go to; required with STORAGE_DRIVER=s3. */
  @ValidateIf((env: EnvironmentVariables) => env.STORAGE_DRIVER === 's3' || env.S3_BUCKET !== undefined)
  @Matches(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, {
    message:
      'S3_BUCKET must be set to a bucket name (3-63 lowercase letters, digits, dots, hyphens) when STORAGE_DRIVER=s3',
  })
  S3_BUCKET?: string;

  /** Static credentials; both unset: the AWS SDK's default chain (environment, profile, instance role). */
  @ValidateIf(
    (env: EnvironmentVariables) =>
      env.S3_SECRET_ACCESS_KEY !== undefined || env.S3_ACCESS_KEY_ID !== undefined,
  )
  @IsString({ message: 'S3_ACCESS_KEY_ID must be set together with S3_SECRET_ACCESS_KEY' })
  S3_ACCESS_KEY_ID?: string;

  @ValidateIf(
    (env: EnvironmentVariables) =>
      env.S3_ACCESS_KEY_ID !== undefined || env.S3_SECRET_ACCESS_KEY !== undefined,
  )
  @IsString({ message: 'S3_SECRET_ACCESS_KEY must be set together with S3_ACCESS_KEY_ID' })
  S3_SECRET_ACCESS_KEY?: string;

  /** `true` for servers that address buckets as a path (`endpoint/bucket/key`): versitygw, MinIO. */
  @IsIn(['true', 'false'])
  S3_FORCE_PATH_STYLE: 'true' | 'false' = 'false';

  /** Bytes per multipart part of a streamed upload (S3 allows 5 MiB to 5 GiB). Memory per upload = (S3_QUEUE_SIZE + 1) × this. */
  @Type(() => Number)
  @IsInt()
  @Min(5 * 1024 * 1024)
  @Max(5 * 1024 * 1024 * 1024)
  S3_PART_SIZE = 8 * 1024 * 1024;

  /** Parts of one streamed upload sent to S3 at once. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(16)
  S3_QUEUE_SIZE = 2;

  /** How media content GETs are answered with STORAGE_DRIVER=s3: `stream` through this service, or `redirect` (302 to a presigned S3 URL). */
  @IsIn(['stream', 'redirect'])
  S3_DOWNLOAD_MODE: 'stream' | 'redirect' = 'stream';

  /** The S3 endpoint clients reach for presigned URLs, when it differs from S3_ENDPOINT (an internal address). */
  @IsOptional()
  @Matches(/^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?\/?$/, {
    message: 'S3_PRESIGN_ENDPOINT must be an http(s) URL without a path, e.g. https://s3.example.com',
  })
  S3_PRESIGN_ENDPOINT?: string;

  /** Largest single-request upload (POST /api/upload/media), in bytes. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  MAX_MEDIA_BYTES = 500 * 1024 * 1024;

  /** Largest single chunk of the seed chunk API, in bytes. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  MAX_CHUNK_BYTES = 100 * 1024 * 1024;

  /** Largest resumable upload (seed chunks, tus or the IETF draft), in bytes. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  MAX_RESUMABLE_BYTES = 2 * 1024 * 1024 * 1024;

  /**
   * Fewest bytes an IETF-draft append (or creation) that does not complete its upload may carry when it declares
   * its length (`Upload-Limit: min-append-size`); 0 for none. Keeps an upload from being kept alive by empty appends.
   */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  MIN_RESUMABLE_APPEND_BYTES = 64 * 1024;

  /** Seconds without activity after which an unfinished upload of any kind is expired and its bytes deleted. */
  @Type(() => Number)
  @IsInt()
  @Min(60)
  UPLOAD_EXPIRY = 24 * 3600;

  /** Seconds between two runs of the expiry sweeper. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  SWEEP_INTERVAL = 300;

  /** Milliseconds between two writes of an upload's live progress to the database. */
  @Type(() => Number)
  @IsInt()
  @Min(50)
  PROGRESS_PERSIST_MS = 1000;

  /** Minimum milliseconds between two progress events on an SSE stream. */
  @Type(() => Number)
  @IsInt()
  @Min(10)
  PROGRESS_EVENT_MS = 250;

  /** Lifetime of signed media URLs, in seconds. */
  @Type(() => Number)
  @IsInt()
  @Min(10)
  @Max(24 * 3600)
  SIGNED_URL_TTL = 900;

  /** Milliseconds a client has to send its request headers (slow-loris protection). */
  @Type(() => Number)
  @IsInt()
  @Min(1000)
  HTTP_HEADERS_TIMEOUT_MS = 20_000;

  /** Milliseconds a connection may stay silent in both directions before it is closed (stalled uploads end). */
  @Type(() => Number)
  @IsInt()
  @Min(1000)
  HTTP_IDLE_TIMEOUT_MS = 120_000;

  /** Seconds in which a client address's register/login budget (THROTTLE_AUTH_LIMIT) refills completely. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  THROTTLE_TTL = 60;

  /** Register and login attempts per client address in a burst (flood protection; refills over THROTTLE_TTL). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  THROTTLE_AUTH_LIMIT = 10;

  /** Uploads one user may start in a burst (POST /api/upload/media, tus creation): the token bucket's size. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  THROTTLE_UPLOAD_LIMIT = 200;

  /** Seconds in which an empty upload bucket refills completely (200 / 600 s: one upload start per 3 s sustained). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  THROTTLE_UPLOAD_REFILL = 600;

  /** Seed chunks (POST /api/video/upload) one user may send in a burst. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  THROTTLE_CHUNK_LIMIT = 300;

  /** Seconds in which an empty chunk bucket refills completely (300 / 60 s: 5 chunks per second sustained). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  THROTTLE_CHUNK_REFILL = 60;

  /** Failed logins for one account from one client address before each further try must wait (growing delay). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  LOGIN_FREE_FAILURES = 5;

  /** Longest wait, in seconds, between tries for one account from one address (the delay doubles up to it). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  LOGIN_MAX_DELAY = 900;

  /** Failed logins for one account from all addresses together before addresses it never logged in from wait. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  LOGIN_ACCOUNT_FREE_FAILURES = 20;

  /** Longest account-wide wait, in seconds: small, so an attacker cannot turn it into a lockout of the owner. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  LOGIN_ACCOUNT_MAX_DELAY = 60;

  /** Bytes each user may store, finished and in-flight uploads together; 0 means unlimited. */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  USER_QUOTA_BYTES = 0;

  /** Upload bodies one user may stream at once on one instance (every upload route); more get 429. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  MAX_CONCURRENT_UPLOADS_PER_USER = 20;

  /** Slowest upload body accepted, in bytes per second over UPLOAD_THROUGHPUT_WINDOW; slower ones end with 408. 0 = off. */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  UPLOAD_MIN_BYTES_PER_SECOND = 1024;

  /** Seconds over which an upload body's throughput is measured against UPLOAD_MIN_BYTES_PER_SECOND. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  UPLOAD_THROUGHPUT_WINDOW = 60;

  /** Lifetime of single-use SSE tickets, in seconds. */
  @Type(() => Number)
  @IsInt()
  @Min(5)
  @Max(600)
  SSE_TICKET_TTL = 60;

  /** ffprobe binary (Debian's ffmpeg package): probes every finished upload. */
  @IsString()
  FFPROBE_PATH = 'ffprobe';

  /** ffmpeg binary: poster frames, faststart and WebM remuxes. */
  @IsString()
  FFMPEG_PATH = 'ffmpeg';

  /** heif-convert binary (Debian's libheif-examples): decodes HEIC photos, which sharp's own libvips cannot. */
  @IsString()
  HEIF_CONVERT_PATH = 'heif-convert';

  /** Processing jobs (thumbnails, posters, renditions) one instance runs at once. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(64)
  PROCESSING_CONCURRENCY = 1;

  /** Longest one processing job may run, in seconds; a job past it fails (and is retried). */
  @Type(() => Number)
  @IsInt()
  @Min(5)
  PROCESSING_JOB_TIMEOUT = 300;

  /** Attempts per processing job before it is marked failed on the media record. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(20)
  PROCESSING_ATTEMPTS = 3;

  /** Longest the probe at finalisation may run, in milliseconds (a hostile file is refused past it). */
  @Type(() => Number)
  @IsInt()
  @Min(500)
  PROBE_TIMEOUT_MS = 20_000;

  /** Largest image, in pixels, that is decoded (decompression bombs); larger photos are refused at the probe. */
  @Type(() => Number)
  @IsInt()
  @Min(1_000_000)
  MAX_IMAGE_PIXELS = 268_402_689;

  /**
   * First wait before a failed processing job is retried, in milliseconds; each further retry waits twice as long
   * (exponential backoff).
   */
  @Type(() => Number)
  @IsInt()
  @Min(10)
  PROCESSING_RETRY_DELAY_MS = 10_000;

  /**
   * With REDIS_URL: how long a worker's lock on a running job lasts without renewal, in milliseconds, and how often
   * workers look for jobs whose lock expired (their instance died). Such a job runs again on another instance
   * within about twice this.
   */
  @Type(() => Number)
  @IsInt()
  @Min(1000)
  PROCESSING_LOCK_MS = 30_000;
}
