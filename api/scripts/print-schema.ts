/**
 * Writes the printed SDL to api/schema.graphql (committed, so reviews show schema diffs).
 * Usage: `npx tsx api/scripts/print-schema.ts` (test/graphql/schema-sdl.test.ts fails when it is stale).
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { printGraphQLSchema, SCHEMA_FILE } from '../src/graphql/print-schema.ts';

writeFileSync(SCHEMA_FILE, printGraphQLSchema());
console.log(`wrote ${fileURLToPath(SCHEMA_FILE)}`);
