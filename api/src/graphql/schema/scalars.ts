import { GraphQLError, Kind } from '../graphql-js.ts';
import { builder } from '../builder.ts';

const badInput = (message: string) => new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });

function parseDate(value: unknown): Date {
  if (typeof value !== 'string') throw badInput('DateTime must be an ISO 8601 string.');
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw badInput(`"${value.slice(0, 40)}" is not an ISO 8601 date-time.`);
  return d;
}

builder.scalarType('DateTime', {
  description: 'An instant, as an ISO 8601 string in UTC (e.g. 2026-01-31T12:00:00.000Z).',
  serialize: (value) => (value instanceof Date ? value.toISOString() : new Date(value).toISOString()),
  parseValue: parseDate,
  parseLiteral: (ast) => parseDate(ast.kind === Kind.STRING ? ast.value : null),
});

function parseBigInt(value: unknown): bigint {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  if (typeof value === 'string' && /^-?\d{1,30}$/.test(value)) return BigInt(value);
  throw badInput('BigInt must be a whole number written as a string (e.g. "1500000").');
}

builder.scalarType('BigInt', {
  description: 'A whole number beyond 2^53, serialized as a decimal string. Money is in micro-dollars (1 USD = "1000000").',
  serialize: (value) => String(value),
  parseValue: parseBigInt,
  parseLiteral: (ast) => parseBigInt(ast.kind === Kind.STRING || ast.kind === Kind.INT ? ast.value : null),
});

export const OrgRoleEnum = builder.enumType('OrgRole', { values: ['OWNER', 'ADMIN', 'MEMBER'] as const });
