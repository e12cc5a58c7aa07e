import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { printGraphQLSchema, SCHEMA_FILE } from '../../src/graphql/print-schema.ts';

it('api/schema.graphql matches the code (run `npx tsx api/scripts/print-schema.ts` after a schema change)', () => {
  expect(readFileSync(SCHEMA_FILE, 'utf8')).toBe(printGraphQLSchema());
});
