import { Logger, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { MongooseModule } from '@nestjs/mongoose';
import mongoose from 'mongoose';
import type { AppConfig } from '../config';
import { EmbeddedDatabaseService } from './embedded-database.service';

// Operators in filters built from user input are neutralised ({ $gt: '' } becomes a literal match).
mongoose.set('sanitizeFilter', true);

const DEFAULT_DB_NAME = 'media_upload';

@Module({
  providers: [EmbeddedDatabaseService],
  exports: [EmbeddedDatabaseService],
})
class EmbeddedDatabaseModule {}

/** Connects Mongoose to MONGODB_URI, or to an embedded server started on the spot when it is unset. */
@Module({
  imports: [
    MongooseModule.forRootAsync({
      imports: [EmbeddedDatabaseModule],
      inject: [ConfigService, EmbeddedDatabaseService],
      useFactory: async (config: ConfigService<AppConfig, true>, embedded: EmbeddedDatabaseService) => {
        const db = config.get('database', { infer: true });
        const uri = db.uri ?? (await embedded.start());
        new Logger('Database').log(
          db.uri ? 'Connecting to MONGODB_URI' : `Connecting to embedded server ${uri}`,
        );
        return {
          uri,
          dbName: db.dbName ?? (db.uri ? undefined : DEFAULT_DB_NAME),
          serverSelectionTimeoutMS: 10_000,
          maxPoolSize: db.poolSize,
          // A database operation that hangs fails after a minute instead of holding its connection forever.
          socketTimeoutMS: 60_000,
          autoIndex: true,
        };
      },
    }),
  ],
})
export class DatabaseModule {}
