export { DatabaseModule } from './database.module';
export {
  startEmbeddedMongoServer,
  type EmbeddedServerOptions,
  type RunningServer,
} from './embedded-mongo-server';
