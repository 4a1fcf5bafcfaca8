import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, MinLength } from 'class-validator';

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

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';

  @IsOptional()
  @Matches(/^mongodb(\+srv)?:\/\//, { message: 'MONGODB_URI must start with mongodb:// or mongodb+srv://' })
  MONGODB_URI?: string;

  @IsOptional()
  @Matches(/^[A-Za-z0-9_-]{1,63}$/, { message: 'MONGODB_DB must be 1-63 letters, digits, _ or -' })
  MONGODB_DB?: string;

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
}
