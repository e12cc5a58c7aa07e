import { ensureDatabaseExists } from './ensure-database.ts';
import {
  type MigrationPaths,
  noSchemaFilter,
  readMigrationsList,
  readSchemaFiles,
  resolvePaths,
} from './migrations-dir.ts';
import { withSchemaEngine } from './schema-engine.ts';

/** Options of {@link deployMigrations}. */
export interface DeployMigrationsOptions extends MigrationPaths {
  /** The database to migrate; created first if it does not exist (the role then needs CREATEDB). */
  databaseUrl: string;
  /**
   * Receives the schema engine's log lines (JSON).
   * @defaultValue ignores them
   */
  log?: (line: string) => void;
}

export interface DeployMigrationsResult {
  /** Migrations applied by this call, in order; empty when the database was up to date. */
  applied: string[];
  /** Already-applied migrations whose migration.sql no longer matches the recorded checksum. */
  modifiedAfterApply: string[];
  /** Whether the database did not exist and was created. */
  createdDatabase: boolean;
}

/**
 * Applies the pending migrations the way `prisma migrate deploy` does, with Prisma's own schema engine:
 * under advisory lock 72707369, each recorded in `_prisma_migrations` with the sha256 of its
 * migration.sql. A migration that failed before is refused with P3009 until it is resolved.
 */
export async function deployMigrations(options: DeployMigrationsOptions): Promise<DeployMigrationsResult> {
  const { migrationsDir, schemaPath } = resolvePaths(options);
  const [migrationsList, schemaFiles] = await Promise.all([
    readMigrationsList(migrationsDir),
    readSchemaFiles(schemaPath),
  ]);
  const createdDatabase = await ensureDatabaseExists(options.databaseUrl);
  return withSchemaEngine({ databaseUrl: options.databaseUrl, schemaFiles, log: options.log }, async (engine) => {
    const history = await engine.diagnoseMigrationHistory({
      migrationsList,
      optInToShadowDatabase: false,
      filters: noSchemaFilter,
    });
    const { appliedMigrationNames } = await engine.applyMigrations({ migrationsList, filters: noSchemaFilter });
    return { applied: appliedMigrationNames, modifiedAfterApply: history.editedMigrationNames, createdDatabase };
  });
}
