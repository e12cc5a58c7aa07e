/**
 * Prisma migrations without Prisma's native schema-engine binary (which cannot be downloaded here):
 * the same engine, as WebAssembly, driven through adapter-pg. Files and database records are Prisma's
 * own, so the real `prisma migrate deploy` can take over wherever it is available.
 */
export { createMigration, migrationTimestamp, toMigrationSlug } from './create-migration.ts';
export type { CreatedMigration, CreateMigrationOptions } from './create-migration.ts';
export { deployMigrations } from './deploy-migrations.ts';
export type { DeployMigrationsOptions, DeployMigrationsResult } from './deploy-migrations.ts';
export { diffSchemaAgainstMigrations } from './diff-schema.ts';
export type { DiffSchemaOptions, SchemaDiff } from './diff-schema.ts';
export { ensureDatabaseExists } from './ensure-database.ts';
export { MigrationError } from './errors.ts';
export {
  defaultMigrationsDir,
  defaultSchemaPath,
  MIGRATION_LOCK_CONTENT,
  MIGRATION_LOCK_FILE,
  MIGRATION_SCRIPT_FILE,
  readMigrationsList,
} from './migrations-dir.ts';
export type { MigrationPaths } from './migrations-dir.ts';
export { createMigrationAdapterFactory, poolConfigFromUrl } from './pg-adapter-fix.ts';
export type { MigrationAdapterFactory } from './pg-adapter-fix.ts';
export { withSchemaEngine } from './schema-engine.ts';
export type { SchemaEngine, SchemaEngineOptions } from './schema-engine.ts';
