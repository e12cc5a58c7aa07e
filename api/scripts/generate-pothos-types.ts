/**
 * Regenerates src/graphql/generated/pothos-prisma-types.ts (Pothos' Prisma types + datamodel) from
 * prisma/schema.prisma. The data package owns schema.prisma and its one generator, so we run Pothos'
 * generator on a temporary copy instead of adding a generator there.
 * Usage: `npx tsx api/scripts/generate-pothos-types.ts` after a change to prisma/schema.prisma.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const prismaDir = fileURLToPath(new URL('../../prisma/', import.meta.url));
const output = fileURLToPath(new URL('../src/graphql/generated/pothos-prisma-types.ts', import.meta.url));
const source = readFileSync(join(prismaDir, 'schema.prisma'), 'utf8').replace(/generator client \{[^}]*\}/, '');
const dir = mkdtempSync(join(tmpdir(), 'pothos-'));
try {
  const schema = join(dir, 'schema.prisma');
  writeFileSync(schema, `generator pothos {\n  provider     = "prisma-pothos-types"\n  clientOutput = "@cic/db"\n  output       = ${JSON.stringify(output)}\n}\n${source}`);
  execFileSync('npx', ['prisma', 'generate', '--schema', schema], { cwd: prismaDir, stdio: 'inherit' });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
