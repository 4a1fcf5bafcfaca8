// UploadCoreModule is left out on purpose: it imports MediaModule, whose upload service imports this barrel, so
// exporting it here would be a require cycle. The app module imports upload-core.module directly.
export { UploadMeter } from './upload-meter';
export type { ByteBudget, ByteSink, HeadCheck, MeterProgress, UploadMeterOptions } from './upload-meter';
export { UploadAbandoner } from './upload-abandoner';
export type { AbandonInput, EndStatus } from './upload-abandoner';
export { UploadFinaliser } from './upload-finaliser';
export type { CheckedFile, FinaliseInput, StoredUpload } from './upload-finaliser';
// The lease is taken through UploadClaims only; its key and the 503 are shared.
export { UPLOAD_LEASE_MS, uploadBusy, uploadLockKey } from './upload-lease';
export { UploadClaims } from './upload-claims';
export type { ClaimLease, ClaimQuota, ClaimRecord, ClaimRequest } from './upload-claims';
export { UploadClaim } from './upload-claim';
export type { ClaimAbandonInput, ClaimFinaliseInput, ClaimProgress, Held } from './upload-claim';
export { UploadHashes } from './upload-hashes';
export { pipeRequestBody } from './pipe-request-body';
