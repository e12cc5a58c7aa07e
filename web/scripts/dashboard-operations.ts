import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as fields from '../src/lib/graphql-fields.ts';

const SRC = new URL('../src/', import.meta.url).pathname;
/** The API's allowlist of the dashboard's operations (sha256 of the exact text → text). */
export const MANIFEST = new URL('../../api/src/graphql/persisted-operations.json', import.meta.url).pathname;

export interface DashboardOperation {
  /** Source file, relative to web/src. */
  file: string;
  name: string;
  /** Exactly the string the dashboard sends (the literal's whole content, shared selections filled in). */
  text: string;
}

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : /\.(ts|svelte)$/.test(name) ? [path] : [];
  });
}

/** Every GraphQL operation written as a string literal in the dashboard's sources. */
export function dashboardOperations(): DashboardOperation[] {
  const found: DashboardOperation[] = [];
  for (const file of files(SRC).sort()) {
    const source = readFileSync(file, 'utf8');
    for (const m of source.matchAll(/([`'])(\s*(?:query|mutation|subscription)\s+([A-Z]\w*)[\s\S]*?)\1/g)) {
      const [, , literal, name] = m as unknown as [string, string, string, string];
      const where = `${file.slice(SRC.length)}: ${name}`;
      // Escapes would make the runtime string differ from the source text (and so from its hash).
      if (literal.includes('\\')) throw new Error(`${where}: no escapes in operation literals`);
      const text = literal.replace(/\$\{(\w+)\}/g, (_, ref: string) => {
        const value = (fields as Record<string, string>)[ref];
        if (value === undefined) throw new Error(`${where}: unknown interpolation \${${ref}} (only graphql-fields.ts constants)`);
        return value;
      });
      found.push({ file: file.slice(SRC.length), name, text });
    }
  }
  return found;
}

/** The manifest for these operations, as committed (stable order, one entry per distinct text). */
export function persistedManifest(operations = dashboardOperations()): string {
  const entries = [...new Set(operations.map((o) => o.text))]
    .map((text) => [createHash('sha256').update(text).digest('hex'), text] as const)
    .sort(([a], [b]) => a.localeCompare(b));
  return `${JSON.stringify(Object.fromEntries(entries), null, 2)}\n`;
}
