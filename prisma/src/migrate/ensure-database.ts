import pg from 'pg';
import { poolConfigFromUrl } from './pg-adapter-fix.ts';

/** Postgres's SQLSTATE for "database does not exist". */
const INVALID_CATALOG_NAME = '3D000';

/**
 * Creates the URL's database when it does not exist yet, as `prisma migrate deploy` does, connecting to
 * the `postgres` maintenance database for that. Returns whether it created it.
 */
export async function ensureDatabaseExists(databaseUrl: string): Promise<boolean> {
  const { config } = poolConfigFromUrl(databaseUrl);
  if (!config.database) return false;
  const probe = new pg.Client(config);
  try {
    await probe.connect();
    return false;
  } catch (error) {
    if ((error as { code?: string }).code !== INVALID_CATALOG_NAME) throw error;
  } finally {
    await probe.end().catch(() => {});
  }
  const admin = new pg.Client({ ...config, database: 'postgres' });
  try {
    await admin.connect();
    await admin.query(`CREATE DATABASE "${config.database.replaceAll('"', '""')}"`);
    return true;
  } catch (error) {
    // Another deploy created it in the meantime: duplicate_database, or a unique violation on
    // pg_database when both CREATE DATABASE statements ran at the same time.
    const code = (error as { code?: string }).code;
    if (code === '42P04' || code === '23505') return false;
    throw error;
  } finally {
    await admin.end().catch(() => {});
  }
}
