// ProcessingModule is left out on purpose: it imports MediaModule, whose upload service reaches upload-core, which
// imports this barrel, so exporting it here would be a require cycle. The app module imports it directly.
export { emptyMetadata, type MediaMetadata } from './media-metadata';
export {
  DERIVED_NAMES,
  PROCESSING_STATUSES,
  type DerivedFile,
  type DerivedFiles,
  type ProcessingJob,
  type ProcessingState,
  type ProcessingStatus,
} from './processing-state';
export { MediaContentRefusal, MediaProbe, type ProbeInput } from './probe/media-probe';
export { ProcessingQueue } from './queue/processing-queue';
export { runTool, ToolFailure, type RunToolOptions, type ToolFailureKind } from './tools/run-tool';
