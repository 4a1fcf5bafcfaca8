// Build-time scripts (generate-openapi) are entry points, not exports.
export { configureApp } from './configure-app';
export { applyHttpTimeouts, HEADERS_TIMEOUT_MS, IDLE_SOCKET_TIMEOUT_MS } from './http-timeouts';
export { buildOpenApiDocument, setupOpenApi } from './openapi';
export { createValidationPipe } from './validation.pipe';
