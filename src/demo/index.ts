export { DEMO_DIR, DemoModule } from './demo.module';
