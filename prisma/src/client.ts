import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/client.ts';

export interface CreatePrismaOptions {
  /** Postgres connection string. */
  databaseUrl: string;
  /**
   * Connections in this process's pool.
   * @defaultValue 10
   */
  poolSize?: number;
  /**
   * How long a query may wait for a free connection before failing, in ms.
   * @defaultValue 5000
   */
  connectionTimeoutMs?: number;
}

/** One Prisma client over node-postgres; each service makes one at start-up and disconnects it on stop. */
export function createPrismaClient({ databaseUrl, poolSize = 10, connectionTimeoutMs = 5_000 }: CreatePrismaOptions): PrismaClient {
  const adapter = new PrismaPg({
    connectionString: databaseUrl,
    max: poolSize,
    connectionTimeoutMillis: connectionTimeoutMs,
  });
  return new PrismaClient({ adapter });
}
