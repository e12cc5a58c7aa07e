/** A JSON Schema as the OpenAI API carries it (`response_format.json_schema.schema`, a tool's `parameters`). */
export type JsonSchema = Record<string, unknown>;
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * A value that validates against `schema`, the same for the same schema: what the simulator "generates"
 * under structured outputs (vLLM's guided decoding) and for tool-call arguments. Covers what OpenAI's
 * strict mode allows: objects (required properties), arrays (min/max items), enum, const, strings
 * (length, common formats), numbers and integers (bounds, multipleOf), booleans, null, anyOf/oneOf/allOf,
 * type lists and local `$ref`s (`#/$defs/...`, `#/definitions/...`). `pattern` is not honoured.
 */
export function valueForSchema(schema: JsonSchema, root: JsonSchema = schema, depth = 0): Json {
  if (depth > 32) throw new Error('JSON schema nests too deeply (recursive $ref?)');
  const next = (sub: unknown): Json => valueForSchema(asSchema(sub), root, depth + 1);
  if (typeof schema.$ref === 'string') return next(resolveRef(root, schema.$ref));
  if ('const' in schema) return schema.const as Json;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0] as Json;
  for (const key of ['anyOf', 'oneOf'] as const) {
    const options = schema[key];
    if (Array.isArray(options) && options.length > 0) {
      // Prefer a branch that is not plain null, so the output carries a value.
      return next(options.find((option) => asSchema(option).type !== 'null') ?? options[0]);
    }
  }
  if (Array.isArray(schema.allOf) && schema.allOf.length > 0) {
    return next(Object.assign({}, ...schema.allOf.map((part) => asSchema(part))) as JsonSchema);
  }
  switch (typeOf(schema)) {
    case 'object': {
      const properties = asSchema(schema.properties);
      const required = Array.isArray(schema.required) ? (schema.required as string[]) : [];
      return Object.fromEntries(required.map((name) => [name, next(properties[name] ?? {})]));
    }
    case 'array': {
      const min = numberOr(schema.minItems, 0);
      const count = Math.min(Math.max(min, 1), numberOr(schema.maxItems, Number.POSITIVE_INFINITY));
      if (Array.isArray(schema.prefixItems)) return schema.prefixItems.map((item) => next(item));
      return Array.from({ length: count }, () => next(schema.items ?? {}));
    }
    case 'string':
      return stringFor(schema);
    case 'integer':
    case 'number':
      return numberFor(schema, typeOf(schema) === 'integer');
    case 'boolean':
      return true;
    case 'null':
      return null;
    default:
      return 'sim';
  }
}

function typeOf(schema: JsonSchema): string | undefined {
  const { type } = schema;
  if (Array.isArray(type)) return (type.find((entry) => entry !== 'null') ?? type[0]) as string | undefined;
  if (typeof type === 'string') return type;
  if (schema.properties || schema.required) return 'object';
  if (schema.items) return 'array';
  return undefined;
}

const asSchema = (value: unknown): JsonSchema =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonSchema) : {};

const numberOr = (value: unknown, fallback: number): number => (typeof value === 'number' ? value : fallback);

function resolveRef(root: JsonSchema, ref: string): JsonSchema {
  if (!ref.startsWith('#')) throw new Error(`Only local $refs are supported, got ${ref}`);
  let node: unknown = root;
  for (const part of ref.slice(1).split('/').filter(Boolean)) {
    node = asSchema(node)[part.replaceAll('~1', '/').replaceAll('~0', '~')];
  }
  if (node === undefined) throw new Error(`Unresolvable $ref ${ref}`);
  return asSchema(node);
}

const FORMATS: Record<string, string> = {
  'date-time': '2024-01-01T00:00:00Z',
  date: '2024-01-01',
  time: '00:00:00',
  email: 'sim@example.com',
  uri: 'https://example.com/',
  uuid: '00000000-0000-4000-8000-000000000000',
  ipv4: '127.0.0.1',
};

function stringFor(schema: JsonSchema): string {
  const format = typeof schema.format === 'string' ? FORMATS[schema.format] : undefined;
  if (format) return format;
  const min = numberOr(schema.minLength, 0);
  const max = numberOr(schema.maxLength, Number.POSITIVE_INFINITY);
  return 'sim'.padEnd(min, 'x').slice(0, max);
}

function numberFor(schema: JsonSchema, integer: boolean): number {
  const step = integer ? 1 : 0.5;
  let low = numberOr(schema.minimum, Number.NEGATIVE_INFINITY);
  if (typeof schema.exclusiveMinimum === 'number') low = Math.max(low, schema.exclusiveMinimum + step);
  let high = numberOr(schema.maximum, Number.POSITIVE_INFINITY);
  if (typeof schema.exclusiveMaximum === 'number') high = Math.min(high, schema.exclusiveMaximum - step);
  let value = Math.min(Math.max(0, low), high);
  if (integer) value = Math.ceil(value) <= high ? Math.ceil(value) : Math.floor(value);
  const multiple = numberOr(schema.multipleOf, 0);
  if (multiple > 0) value = Math.ceil(value / multiple) * multiple;
  return value;
}
