import { printSchema } from './graphql-js.ts';
import { schema } from './schema/index.ts';

/** Where the committed SDL lives. */
export const SCHEMA_FILE = new URL('../../schema.graphql', import.meta.url);

export const printGraphQLSchema = (): string => `${printSchema(schema)}\n`;
