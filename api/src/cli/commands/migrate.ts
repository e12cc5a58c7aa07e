import { deployMigrations } from '@cic/db/migrate';
import type { CliIO } from '../cli-io.ts';

export const MIGRATE_USAGE = `cic migrate

  Applies the pending database migrations to DATABASE_URL (creating the database when missing). A
  migration is never applied twice, and Prisma's advisory lock lets several copies run at once.`;

/** `cic migrate`; also what npm start runs. Returns the migrations it applied. */
export async function migrateDatabase({ databaseUrl, io }: { databaseUrl: string; io: CliIO }): Promise<string[]> {
  const result = await deployMigrations({ databaseUrl });
  if (result.createdDatabase) io.out('created the database');
  for (const name of result.modifiedAfterApply) io.err(`warning: migration ${name} was modified after it was applied`);
  io.out(result.applied.length ? `applied migrations: ${result.applied.join(', ')}` : 'database schema up to date');
  return result.applied;
}
