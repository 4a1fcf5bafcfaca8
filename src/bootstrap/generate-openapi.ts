import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { AppModule } from '../app.module';
import { buildOpenApiDocument } from './openapi';
import { sortKeys } from './sort-keys';

/**
 * Writes docs/openapi.json from the built app (run from dist/, so the swagger CLI plugin's metadata is in), or with
 * `--check` fails when the committed file differs. Preview mode builds the route graph without connecting to a
 * database.
 */
async function main(): Promise<void> {
  const target = resolve(__dirname, '../../docs/openapi.json');
  const app = await NestFactory.create(
    await AppModule.forRoot({
      NODE_ENV: 'test',
      MONGODB_URI: 'mongodb://127.0.0.1:1',
      JWT_SECRET: 'x'.repeat(32),
    }),
    { preview: true, logger: false },
  );
  app.setGlobalPrefix('api');
  const spec = `${JSON.stringify(sortKeys(buildOpenApiDocument(app)), null, 2)}\n`;
  await app.close();

  if (process.argv.includes('--check')) {
    const committed = await readFile(target, 'utf8').catch(() => '');
    if (committed !== spec) {
      console.error('docs/openapi.json is out of date with the code: run `npm run openapi` and commit it.');
      process.exit(1);
    }
    console.log('docs/openapi.json matches the code.');
    return;
  }
  await writeFile(target, spec);
  console.log(`Wrote ${target}`);
}

void main();
