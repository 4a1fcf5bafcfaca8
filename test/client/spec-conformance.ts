import type { Middleware } from 'openapi-fetch';
import spec from '../../docs/openapi.json';

/** The slice of OpenAPI 3.0 schema objects the spec uses. */
interface Schema {
  $ref?: string;
  type?: string;
  format?: string;
  nullable?: boolean;
  enum?: unknown[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  additionalProperties?: boolean | Schema;
  allOf?: Schema[];
}

interface Operation {
  responses: Record<string, { content?: Record<string, { schema?: Schema }> }>;
}

const schemas = spec.components.schemas as Record<string, Schema>;
const paths = spec.paths as Record<string, Record<string, Operation>>;

function resolveRef(schema: Schema): Schema {
  if (!schema.$ref) return schema;
  return schemas[schema.$ref.replace('#/components/schemas/', '')];
}

/** Every way `value` breaks `schema`, as "path: problem" strings (empty when it conforms). */
export function violations(schema: Schema, value: unknown, at = '$'): string[] {
  const s = resolveRef(schema);
  // A nullable reference is `{ allOf: [$ref], nullable: true }`: null is checked before the parts.
  if (value === null && s.nullable) return [];
  if (s.allOf) return s.allOf.flatMap((part) => violations(part, value, at));
  if (value === null) return [`${at}: null but not nullable`];
  if (s.enum && !s.enum.includes(value))
    return [`${at}: ${JSON.stringify(value)} not in ${JSON.stringify(s.enum)}`];
  switch (s.type) {
    case 'string':
      if (typeof value !== 'string') return [`${at}: expected string, got ${typeof value}`];
      if (s.format === 'date-time' && Number.isNaN(Date.parse(value))) return [`${at}: not a date-time`];
      return [];
    case 'number':
    case 'integer':
      return typeof value === 'number' ? [] : [`${at}: expected number, got ${typeof value}`];
    case 'boolean':
      return typeof value === 'boolean' ? [] : [`${at}: expected boolean, got ${typeof value}`];
    case 'array':
      if (!Array.isArray(value)) return [`${at}: expected array`];
      return value.flatMap((item, i) => (s.items ? violations(s.items, item, `${at}[${i}]`) : []));
    case 'object':
    case undefined: {
      if (!s.properties) return [];
      if (typeof value !== 'object' || Array.isArray(value)) return [`${at}: expected object`];
      const record = value as Record<string, unknown>;
      const missing = (s.required ?? [])
        .filter((key) => !(key in record))
        .map((key) => `${at}.${key}: required`);
      const nested = Object.entries(s.properties).flatMap(([key, inner]) =>
        key in record && record[key] !== undefined ? violations(inner, record[key], `${at}.${key}`) : [],
      );
      return [...missing, ...nested];
    }
    default:
      return [];
  }
}

export interface Checked {
  operation: string;
  status: number;
}

/**
 * openapi-fetch middleware that checks every answer against docs/openapi.json: the status must be documented for
 * that operation, and a JSON body must conform to the documented schema. Problems collect in `problems`.
 */
export function conformanceChecker(): { middleware: Middleware; problems: string[]; checked: Checked[] } {
  const problems: string[] = [];
  const checked: Checked[] = [];
  const middleware: Middleware = {
    async onResponse({ request, response, schemaPath }) {
      const method = request.method.toLowerCase();
      const operation = paths[schemaPath]?.[method];
      const name = `${request.method} ${schemaPath} → ${response.status}`;
      checked.push({ operation: `${request.method} ${schemaPath}`, status: response.status });
      if (!operation) return void problems.push(`${name}: operation not in the spec`);
      const documented = operation.responses[String(response.status)];
      if (!documented) return void problems.push(`${name}: status not documented`);
      const type = response.headers.get('content-type') ?? '';
      const schema = documented.content?.['application/json']?.schema;
      if (!type.includes('application/json')) return;
      if (!schema) return void problems.push(`${name}: JSON body but no documented schema`);
      const body: unknown = await response.clone().json();
      problems.push(...violations(schema, body).map((problem) => `${name}: ${problem}`));
    },
  };
  return { middleware, problems, checked };
}
