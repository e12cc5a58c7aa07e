import {
  type MigrationPaths,
  noSchemaFilter,
  readMigrationsList,
  readSchemaFiles,
  resolvePaths,
} from './migrations-dir.ts';
import { withSchemaEngine } from './schema-engine.ts';

/** Options of {@link diffSchemaAgainstMigrations}. */
export interface DiffSchemaOptions extends MigrationPaths {
  /**
   * A server where a temporary shadow database can be created (and dropped) to replay the migrations;
   * the URL's own database is not touched. The role needs CREATEDB.
   */
  databaseUrl: string;
  /**
   * Receives the schema engine's log lines (JSON).
   * @defaultValue ignores them
   */
  log?: (line: string) => void;
}

export interface SchemaDiff {
  /** True when replaying the migrations yields exactly the schema in schema.prisma. */
  inSync: boolean;
  /** SQL that would bring the migrated database to schema.prisma (the next migration's script). */
  script: string;
}

/**
 * Compares the migrations folder with schema.prisma, like
 * `prisma migrate diff --from-migrations … --to-schema … --script --exit-code` (exit code 2 = they differ).
 */
export async function diffSchemaAgainstMigrations(options: DiffSchemaOptions): Promise<SchemaDiff> {
  const { migrationsDir, schemaPath } = resolvePaths(options);
  const [migrationsList, schemaFiles] = await Promise.all([
    readMigrationsList(migrationsDir),
    readSchemaFiles(schemaPath),
  ]);
  const result = await withSchemaEngine(
    { databaseUrl: options.databaseUrl, schemaFiles, log: options.log },
    (engine) =>
      engine.diff({
        from: { tag: 'migrations', ...migrationsList },
        to: { tag: 'schemaDatamodel', files: schemaFiles },
        script: true,
        exitCode: true,
        filters: noSchemaFilter,
      }),
  );
  return { inSync: result.exitCode === 0, script: result.stdout ?? '' };
}
