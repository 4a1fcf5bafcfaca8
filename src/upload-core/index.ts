// UploadCoreModule is left out on purpose: it imports MediaModule, whose upload service imports this barrel, so
// exporting it here would be a require cycle. The app module imports upload-core.module directly.
export { UploadMeter } from './upload-meter';
export type { ByteBudget, ByteSink, HeadCheck, MeterProgress, UploadMeterOptions } from './upload-meter';
export { UploadAbandoner } from './upload-abandoner';
export type { AbandonInput, EndStatus } from './upload-abandoner';
export { UploadFinaliser } from './upload-finaliser';
export type { CheckedFile, FinaliseInput, StoredUpload } from './upload-finaliser';
export { acquireUpload, UPLOAD_LEASE_MS, uploadBusy, uploadLockKey } from './upload-lease';
