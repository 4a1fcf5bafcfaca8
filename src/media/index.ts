export { MediaModule } from './media.module';
export * from './media-records.service';
export * from './mime-sniffer';
