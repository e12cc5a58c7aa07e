import { readFileSync } from 'node:fs';
import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import { buildSchema, parse, specifiedRules, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import { dashboardOperations, MANIFEST, persistedManifest } from '../../scripts/dashboard-operations.ts';

const SCHEMA = new URL('../../../api/schema.graphql', import.meta.url).pathname;
/** The API's default GRAPHQL_MAX_COST. */
const API_MAX_COST = 5_000;

describe('dashboard GraphQL operations', () => {
  const schema = buildSchema(readFileSync(SCHEMA, 'utf8'));
  const ops = dashboardOperations();

  it('finds the operations', () => {
    expect(ops.length).toBeGreaterThan(15);
  });

  it.each(ops.map((o) => [`${o.name} (${o.file})`, o] as const))('%s is valid against api/schema.graphql and within the cost limit', (_, op) => {
    const errors = validate(schema, parse(op.text), [...specifiedRules, costLimitRule({ maxCost: API_MAX_COST })]);
    expect(errors.map((e) => e.message)).toEqual([]);
  });

  it('are all in the API\'s persisted-operations manifest (else run `npm run persisted-operations`)', () => {
    expect(readFileSync(MANIFEST, 'utf8')).toBe(persistedManifest(ops));
  });
});
