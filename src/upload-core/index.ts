export { UploadMeter } from './upload-meter';
export type { ByteBudget, ByteSink, HeadCheck, MeterProgress, UploadMeterOptions } from './upload-meter';
export { UploadAbandoner } from './upload-abandoner';
export type { AbandonInput, EndStatus } from './upload-abandoner';
export { UploadFinaliser } from './upload-finaliser';
export type { CheckedFile, FinaliseInput, StoredUpload } from './upload-finaliser';
