import { randomUUID } from 'node:crypto';
import { PrismaPg } from '@prisma/adapter-pg';
import type { SqlDriverAdapter, SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import pg from 'pg';

/** Postgres's internal single-byte `"char"` type (pg_class.relkind, pg_constraint.contype …). */
const CHAR_OID = 18;
const TEXT_OID = 25;

/** A driver adapter factory for the schema engine that can release everything it opened. */
export interface MigrationAdapterFactory extends SqlMigrationAwareDriverAdapterFactory {
  /** Disposes every adapter handed out that the engine has not disposed itself (it usually does not). */
  disposeAll(): Promise<void>;
}

/**
 * Turns a `postgresql://user:password@host:port/database?schema=…&sslmode=…` URL into separate pg Pool
 * fields. A `connectionString` would win over the `database` override the shadow database needs.
 */
export function poolConfigFromUrl(databaseUrl: string): { config: pg.PoolConfig; schema: string | undefined } {
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    throw new Error('The database URL is not a valid URL (expected postgresql://user:password@host:port/database)');
  }
  if (url.protocol !== 'postgresql:' && url.protocol !== 'postgres:') {
    throw new Error(`The database URL must start with postgresql:// (got ${url.protocol}//)`);
  }
  const params = url.searchParams;
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  const sslmode = params.get('sslmode');
  const config: pg.PoolConfig = {
    // `?host=/path` selects a Unix socket directory, as libpq does.
    host: params.get('host') ?? (url.hostname.replace(/^\[|\]$/g, '') || 'localhost'),
    port: url.port ? Number(url.port) : 5432,
    user: decodeURIComponent(url.username) || undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    database: database || undefined,
    ssl:
      sslmode === 'require' || sslmode === 'no-verify'
        ? { rejectUnauthorized: false }
        : sslmode === 'verify-ca' || sslmode === 'verify-full'
          ? { rejectUnauthorized: true }
          : undefined,
    allowExitOnIdle: true,
    Client: CharAsTextClient,
  };
  return { config, schema: params.get('schema') ?? undefined };
}

/**
 * adapter-pg 7.10.0 refuses columns of Postgres's internal `"char"` type (OID 18) with "Unsupported column
 * type", and the schema engine reads such columns while introspecting. pg already parses them as strings;
 * only the reported type id has to change, so the adapter maps them to text.
 */
class CharAsTextClient extends pg.Client {
  // One signature covering all of pg's overloads: callback, promise and submittable forms.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override query(...args: any[]): any {
    const [config, values, callback] = args as [unknown, unknown, unknown];
    if (typeof (config as { submit?: unknown } | null)?.submit === 'function') return super.query(...(args as [never]));
    if (typeof values === 'function') {
      return super.query(config as string, wrapCallback(values as QueryCallback));
    }
    if (typeof callback === 'function') {
      return super.query(config as string, values as unknown[], wrapCallback(callback as QueryCallback));
    }
    return (super.query(config as string, values as unknown[]) as Promise<unknown>).then(reportCharAsText);
  }
}

type QueryCallback = (err: Error | null | undefined, result?: unknown) => void;

function wrapCallback(callback: QueryCallback): QueryCallback {
  return (err, result) => callback(err, err ? result : reportCharAsText(result));
}

function reportCharAsText<T>(result: T): T {
  // A multi-statement simple query answers with one result per statement.
  for (const one of Array.isArray(result) ? result : [result]) {
    for (const field of (one as { fields?: { dataTypeID: number }[] } | undefined)?.fields ?? []) {
      if (field.dataTypeID === CHAR_OID) field.dataTypeID = TEXT_OID;
    }
  }
  return result;
}

/**
 * Builds the adapter factory the schema engine connects through: PrismaPg with two adapter-pg 7.10.0 bugs
 * worked around, plus bookkeeping so no pool outlives the operation.
 *
 * - `"char"` columns are reported as text (see {@link CharAsTextClient}).
 * - The shadow database is dropped only after its pool is closed: adapter-pg drops it first, which
 *   Postgres refuses while the pool still holds a connection to it. It also never closes the pool it
 *   created the shadow database with; this one does.
 * - A migration script runs as one simple query, like Prisma's native engine does, instead of being
 *   split at every `;` (which breaks function bodies and string literals containing semicolons). Postgres
 *   then runs the whole script in one implicit transaction, so a failing migration leaves nothing half-done.
 */
export function createMigrationAdapterFactory(databaseUrl: string): MigrationAdapterFactory {
  const { config, schema } = poolConfigFromUrl(databaseUrl);
  const options = schema ? { schema } : undefined;
  const open = new Set<SqlDriverAdapter>();

  /**
   * Opens an adapter on its own pool. Its `dispose` becomes idempotent, closes the pool, then runs
   * `afterClose`; until then the adapter is remembered so `disposeAll` can release it.
   */
  async function connectTo(poolConfig: pg.PoolConfig, afterClose?: () => Promise<void>): Promise<SqlDriverAdapter> {
    const adapter = await new PrismaPg(poolConfig, options).connect();
    const pool = adapter.underlyingDriver();
    adapter.executeScript = async (script: string) => {
      try {
        await pool.query(script);
      } catch (error) {
        // adapter-pg's own mapping turns pg errors into the DriverAdapterErrors the engine understands.
        (adapter as unknown as { onError(error: unknown): never }).onError(error);
      }
    };
    const closePool = adapter.dispose.bind(adapter);
    let disposing: Promise<void> | undefined;
    adapter.dispose = () => {
      disposing ??= closePool()
        .finally(() => afterClose?.())
        .finally(() => open.delete(adapter));
      return disposing;
    };
    open.add(adapter);
    return adapter;
  }

  return {
    provider: 'postgres',
    adapterName: '@prisma/adapter-pg',
    connect: () => connectTo(config),
    async connectToShadowDb() {
      const admin = await new PrismaPg(config, options).connect();
      const database = `prisma_migrate_shadow_db_${randomUUID()}`;
      const dropShadowDb = async () => {
        try {
          await admin.executeScript(`DROP DATABASE IF EXISTS "${database}"`);
        } finally {
          await admin.dispose();
        }
      };
      try {
        await admin.executeScript(`CREATE DATABASE "${database}"`);
      } catch (error) {
        await admin.dispose();
        throw error;
      }
      // The shadow pool is closed before the database is dropped: Postgres refuses to drop a database
      // that still has connections.
      return connectTo({ ...config, database }, dropShadowDb);
    },
    async disposeAll() {
      await Promise.allSettled([...open].map((adapter) => adapter.dispose()));
    },
  };
}
