export * from './live-upload';
export { ProgressModule } from './progress.module';
export * from './processing-progress.service';
export * from './progress-tracker.service';
export type { ProcessingProgress, ProgressView } from './progress-view';
export * from './upload-cancel.service';
export * from './upload-progress.service';
