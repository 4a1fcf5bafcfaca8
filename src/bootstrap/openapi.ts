import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import type { OperationObject, PathItemObject } from '@nestjs/swagger';
import { PUBLIC_OPERATION_EXTENSION } from '../common/decorators/public.decorator';

const TAGS: Record<string, string> = {
  auth: 'Accounts: register, log in (rate-limited per address and throttled per account), read the profile.',
  health: 'Liveness and readiness: database, upload folder and free disk space.',
  media: 'The caller’s uploads: list, read, fetch the file (byte ranges, ETag), signed links, delete.',
  progress: 'Live progress of any upload (polling or Server-Sent Events) and cancel.',
  tus: 'tus 1.0 resumable uploads (creation, creation-with-upload, termination, expiration, checksum).',
  upload: 'Single-request multipart upload of one photo or video, streamed to disk.',
  video: 'The seed chunk API: numbered chunks of a recording, in any order, finalised by the last one.',
};

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/** The first sentence of an operation's JSDoc (the plugin puts all of it into `summary`). */
function firstSentence(text: string): string {
  const match = /^(.+?)(?<!\be\.g|\bi\.e)\.(\s|$)/s.exec(text);
  return (match ? match[1] : text).trim();
}

/**
 * Finishes each operation: `@Public()` routes get `security: []` (or "bearer or nothing" where a bearer token is
 * one option), and the JSDoc becomes the description with its first sentence as the summary.
 */
function finishOperations(document: OpenAPIObject): void {
  for (const item of Object.values<PathItemObject>(document.paths)) {
    for (const method of METHODS) {
      const operation = item[method] as (OperationObject & Record<string, unknown>) | undefined;
      if (!operation) continue;
      if (operation[PUBLIC_OPERATION_EXTENSION]) {
        operation.security = operation.security?.length ? [...operation.security, {}] : [];
        delete operation[PUBLIC_OPERATION_EXTENSION];
      }
      if (operation.summary && !operation.description) {
        operation.description = operation.summary;
        operation.summary = firstSentence(operation.summary);
      }
    }
  }
}

export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const builder = new DocumentBuilder()
    .setTitle('Media Upload Service')
    .setDescription(
      'Upload photos and videos in one request, in numbered chunks, or with tus 1.0; follow progress live; ' +
        'cancel; fetch the finished media. Every route except register, login, health and tus discovery needs ' +
        '`Authorization: Bearer <accessToken>`. Every error body is `{ success: false, statusCode, error, message, requestId }`.',
    )
    .setVersion('1.0')
    // Relative: the server that serves this document (GET /api/docs-json); paths carry the `/api` prefix.
    .addServer('/', 'The server this document is served from')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
    .addSecurityRequirements('bearer');
  for (const [name, description] of Object.entries(TAGS)) builder.addTag(name, description);
  const document = SwaggerModule.createDocument(app, builder.build(), {
    operationIdFactory: (_controllerKey, methodKey) => methodKey,
  });
  finishOperations(document);
  return document;
}

/** Swagger UI at /api/docs, the JSON at /api/docs-json. */
export function setupOpenApi(app: INestApplication): void {
  SwaggerModule.setup('api/docs', app, () => buildOpenApiDocument(app), {
    jsonDocumentUrl: 'api/docs-json',
    swaggerOptions: { persistAuthorization: true },
  });
}
