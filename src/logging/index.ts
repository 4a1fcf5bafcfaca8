export * from './build-progress';
export { LoggingModule } from './logging.module';
