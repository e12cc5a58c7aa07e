import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import { buildSchema, parse, specifiedRules, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import * as fields from '../../src/lib/graphql-fields.ts';

const SRC = new URL('../../src/', import.meta.url).pathname;
const SCHEMA = new URL('../../../api/schema.graphql', import.meta.url).pathname;
/** The API's default GRAPHQL_MAX_COST. */
const API_MAX_COST = 5_000;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : /\.(ts|svelte)$/.test(name) ? [path] : [];
  });
}

/** Every GraphQL operation written in the dashboard's sources, with shared selections filled in. */
function operations(): { file: string; name: string; text: string }[] {
  const found: { file: string; name: string; text: string }[] = [];
  for (const file of files(SRC)) {
    const source = readFileSync(file, 'utf8');
    for (const m of source.matchAll(/([`'])\s*((?:query|mutation|subscription)\s+([A-Z]\w*)[\s\S]*?)\1/g)) {
      const text = m[2]!.replace(/\$\{(\w+)\}/g, (_, name: string) => {
        const value = (fields as Record<string, string>)[name];
        if (value === undefined) throw new Error(`${file}: unknown interpolation \${${name}} in ${m[3]}`);
        return value;
      });
      found.push({ file: file.slice(SRC.length), name: m[3]!, text });
    }
  }
  return found;
}

describe('dashboard GraphQL operations', () => {
  const schema = buildSchema(readFileSync(SCHEMA, 'utf8'));
  const ops = operations();

  it('finds the operations', () => {
    expect(ops.length).toBeGreaterThan(15);
  });

  it.each(ops.map((o) => [`${o.name} (${o.file})`, o] as const))('%s is valid against api/schema.graphql and within the cost limit', (_, op) => {
    const errors = validate(schema, parse(op.text), [...specifiedRules, costLimitRule({ maxCost: API_MAX_COST })]);
    expect(errors.map((e) => e.message)).toEqual([]);
  });
});
