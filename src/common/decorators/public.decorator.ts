import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiExtension } from '@nestjs/swagger';

export const IS_PUBLIC_KEY = 'isPublic';

/** Marks an operation public in the spec; buildOpenApiDocument turns it into `security: []`. */
export const PUBLIC_OPERATION_EXTENSION = 'x-public';

/**
 * Opts a route out of the global JWT guard, and documents it as needing no token (or, on routes that also take a
 * bearer token through a capability guard, as taking either).
 */
export const Public = () =>
  applyDecorators(SetMetadata(IS_PUBLIC_KEY, true), ApiExtension(PUBLIC_OPERATION_EXTENSION, true));
