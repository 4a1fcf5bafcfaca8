export * from './live-upload';
export { ProgressModule } from './progress.module';
export * from './progress-tracker.service';
export type { ProgressView } from './progress-view';
export * from './upload-cancel.service';
export * from './upload-progress.service';
