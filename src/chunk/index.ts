export { ChunkModule } from './chunk.module';
export { isTusPath, TUS_PATH } from './tus/tus-paths';
export { IETF_PATH, isIetfUploadPath } from './ietf/ietf-paths';
