import { Global, Logger, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { MemoryLocker } from '@tus/server';
import type { Locker } from '@tus/utils';
import type { AppConfig } from '../config';
import { ControlBus, InProcessControlBus } from './control-bus';
import { InProcessUploadLocks } from './in-process-upload-locks';
import { RedisConnection } from './redis-connection';
import { RedisControlBus } from './redis-control-bus';
import { RedisTusLocker } from './redis-tus-locker';
import { RedisUploadLocks } from './redis-upload-locks';
import { UploadLocks } from './upload-locks';

/** The shared Redis connection when REDIS_URL is set, else null (one instance, everything in process). */
export const REDIS_CONNECTION = Symbol('REDIS_CONNECTION');
/** @tus/server's Locker: RedisTusLocker across instances, MemoryLocker in one. */
export const TUS_LOCKER = Symbol('TUS_LOCKER');

type MaybeRedis = RedisConnection | null;

/**
 * What instances share (docs/architecture.md, "Coordination"): per-upload locks, the control bus, the tus locker
 * and the Redis connection other modules build shared state on (the rate-limit buckets). With REDIS_URL unset the
 * same interfaces run in process, exactly one instance's behaviour.
 */
@Global()
@Module({
  providers: [
    {
      provide: REDIS_CONNECTION,
      inject: [ConfigService],
      useFactory: async (config: ConfigService<AppConfig, true>): Promise<MaybeRedis> => {
        const { redisUrl } = config.get('coordination', { infer: true });
        if (!redisUrl) return null;
        const connection = await RedisConnection.connect(redisUrl);
        new Logger('Coordination').log('Coordinating instances through REDIS_URL');
        return connection;
      },
    },
    {
      provide: UploadLocks,
      inject: [REDIS_CONNECTION],
      useFactory: (redis: MaybeRedis): UploadLocks =>
        redis ? new RedisUploadLocks(redis.client) : new InProcessUploadLocks(),
    },
    {
      provide: ControlBus,
      inject: [REDIS_CONNECTION, ConfigService],
      useFactory: async (redis: MaybeRedis, config: ConfigService<AppConfig, true>): Promise<ControlBus> => {
        const { redisUrl } = config.get('coordination', { infer: true });
        return redis && redisUrl
          ? RedisControlBus.connect(redis.client, redisUrl)
          : new InProcessControlBus();
      },
    },
    {
      provide: TUS_LOCKER,
      inject: [REDIS_CONNECTION, UploadLocks, ControlBus],
      useFactory: (redis: MaybeRedis, locks: UploadLocks, bus: ControlBus): Locker =>
        redis ? new RedisTusLocker(locks, bus) : new MemoryLocker(),
    },
  ],
  exports: [REDIS_CONNECTION, UploadLocks, ControlBus, TUS_LOCKER],
})
export class CoordinationModule {}
