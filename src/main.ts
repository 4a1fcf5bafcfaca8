import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { ConfigService } from '@nestjs/config';
import { Logger } from '@nestjs/common';
import { AppModule } from './app.module';
import { configureApp } from './bootstrap';
import { AppConfig, ConfigValidationError } from './config';
import { S3BucketCheckError } from './storage';

async function bootstrap(): Promise<void> {
  const app = await NestFactory.create<NestExpressApplication>(await AppModule.forRoot(), {
    bufferLogs: true,
    bodyParser: false,
  });
  configureApp(app);
  const config = app.get<ConfigService<AppConfig, true>>(ConfigService);
  const { host, port } = config.get('http', { infer: true });
  if (config.get('auth', { infer: true }).jwtSecretGenerated) {
    new Logger('Auth').warn(
      'JWT_SECRET is not set: using a random secret, so tokens will not survive a restart',
    );
  }
  await app.listen(port, host);
  new Logger('Bootstrap').log(`Listening on http://${host}:${port} (docs at /api/docs)`);
}

bootstrap().catch((error: unknown) => {
  // Errors an operator fixes outside the code: their message is the whole story, one line, no stack.
  if (error instanceof ConfigValidationError || error instanceof S3BucketCheckError) {
    console.error(error.message);
  } else {
    console.error(error);
  }
  process.exit(1);
});
