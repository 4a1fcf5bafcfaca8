export { ChunkModule } from './chunk.module';
export { isTusPath, TUS_PATH } from './tus/tus-paths';
