export { UploadMeter } from './upload-meter';
export type { ByteBudget, ByteSink, HeadCheck, MeterProgress, UploadMeterOptions } from './upload-meter';
