import { fileURLToPath } from 'node:url';
import { defineConfig } from 'prisma/config';

// Prisma's CLI insists on a native schema-engine binary that cannot be downloaded here. generate/validate
// only check that it exists; point them at a stub that refuses to run, so `prisma migrate` fails loudly
// instead of silently doing nothing. Migrations are applied by scripts/migrate.ts (WebAssembly engine).
process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= fileURLToPath(new URL('./scripts/schema-engine-stub.sh', import.meta.url));

export default defineConfig({
  schema: 'schema.prisma',
  migrations: { path: 'migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://cic@127.0.0.1:5432/cic' },
});
