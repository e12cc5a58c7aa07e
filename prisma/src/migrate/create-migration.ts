import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { diffSchemaAgainstMigrations, type DiffSchemaOptions } from './diff-schema.ts';
import { MigrationError } from './errors.ts';
import { ensureMigrationLock, MIGRATION_SCRIPT_FILE, resolvePaths } from './migrations-dir.ts';

/** Prisma's limit on the name part of a migration directory. */
const MAX_NAME_LENGTH = 200;

/** Options of {@link createMigration}. */
export interface CreateMigrationOptions extends DiffSchemaOptions {
  /** Describes the change (`add_invoices`); normalized to snake_case like Prisma's CLI does. */
  name: string;
  /**
   * Write the migration even when schema.prisma and the migrations agree, e.g. for a hand-written
   * data migration (like `prisma migrate dev --create-only`).
   * @defaultValue false
   */
  allowEmpty?: boolean;
  /**
   * Clock for the directory's timestamp.
   * @defaultValue the current time
   */
  now?: Date;
}

export interface CreatedMigration {
  /** `<YYYYMMDDHHMMSS>_<name>`, the migration's name in `_prisma_migrations`. */
  name: string;
  /** Absolute path of the new migration.sql. */
  path: string;
  script: string;
}

/**
 * Writes `migrations/<YYYYMMDDHHMMSS>_<name>/migration.sql` with the SQL that brings the migrated schema
 * to schema.prisma, plus Prisma's `migration_lock.toml`; the same layout `prisma migrate dev` produces.
 * Returns null, writing nothing, when there is nothing to migrate (unless `allowEmpty`).
 */
export async function createMigration(options: CreateMigrationOptions): Promise<CreatedMigration | null> {
  const slug = toMigrationSlug(options.name);
  if (!slug) throw new MigrationError(`Invalid migration name "${options.name}": use letters, digits and _`);
  const { migrationsDir } = resolvePaths(options);
  const diff = await diffSchemaAgainstMigrations(options);
  if (diff.inSync && !options.allowEmpty) return null;

  const name = `${migrationTimestamp(options.now ?? new Date())}_${slug}`;
  const directory = join(migrationsDir, name);
  await mkdir(migrationsDir, { recursive: true });
  try {
    await mkdir(directory);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new MigrationError(`The migration directory already exists: ${directory}`);
    }
    throw error;
  }
  const path = join(directory, MIGRATION_SCRIPT_FILE);
  await writeFile(path, diff.script, 'utf8');
  await ensureMigrationLock(migrationsDir);
  return { name, path, script: diff.script };
}

/** `addInvoices` / `add invoices` → `add_invoices`, as Prisma's CLI slugifies migration names. */
export function toMigrationSlug(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, MAX_NAME_LENGTH);
}

/** UTC `YYYYMMDDHHMMSS`, the prefix Prisma gives migration directories. */
export function migrationTimestamp(date: Date): string {
  return date.toISOString().replace(/\D/g, '').slice(0, 14);
}
