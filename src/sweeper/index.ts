export { SweeperModule } from './sweeper.module';
