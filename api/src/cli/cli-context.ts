import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { z } from 'zod';
import { createPrismaClient, type PrismaClient } from '@cic/db';
import type { Operator } from '@cic/core/auth/viewer';
import { parseEnv } from '@cic/core/lib/env';
import { createRedis } from '@cic/core/lib/redis';
import { TopicBus, type TopicPublisher } from '@cic/core/lib/topic-bus';
import { apiEnvSchema, platformRateLimitsOf } from '../config.ts';
import type { CliIO } from './cli-io.ts';

const api = apiEnvSchema.shape;

/** The CLI's environment: the database, optionally Redis (to announce changes at once), the API's rate-limit settings, bootstrap's defaults. */
export const cliEnvSchema = z.object({
  DATABASE_URL: api.DATABASE_URL,
  /** When set, catalog changes are announced to running API instances at once (else they see them within INFERENCE_NODE_REFRESH_MS). */
  REDIS_URL: api.REDIS_URL.optional(),
  REDIS_CHANNEL_PREFIX: api.REDIS_CHANNEL_PREFIX,
  RATE_LIMIT_DEFAULT_RPM: api.RATE_LIMIT_DEFAULT_RPM,
  RATE_LIMIT_DEFAULT_TPM: api.RATE_LIMIT_DEFAULT_TPM,
  RATE_LIMIT_MAX_RPM: api.RATE_LIMIT_MAX_RPM,
  RATE_LIMIT_MAX_TPM: api.RATE_LIMIT_MAX_TPM,
  /** bootstrap's defaults for --admin-email, --api-key and --scopes (validated with the flags). */
  BOOTSTRAP_ADMIN_EMAIL: z.string().optional(),
  BOOTSTRAP_API_KEY: z.string().optional(),
  BOOTSTRAP_API_KEY_SCOPES: z.string().optional(),
});

export type CliEnv = z.infer<typeof cliEnvSchema>;

/** What the commands share: one Prisma client, a publisher, the operator identity and the run's request id. */
export interface CliContext {
  env: CliEnv;
  io: CliIO;
  prisma: PrismaClient;
  bus: TopicPublisher;
  /** Who acts in the audit log: SYSTEM `cli`. */
  operator: Operator;
  /** One per run, in every audit entry it writes. */
  requestId: string;
  close(): Promise<void>;
}

/** Without REDIS_URL nothing is announced: API instances re-read the catalog every INFERENCE_NODE_REFRESH_MS anyway. */
const SILENT: TopicPublisher = { publish: async () => undefined };

/** Parses the environment once; an empty variable (compose's `${X:-}`) counts as unset. */
export const parseCliEnv = (rawEnv: NodeJS.ProcessEnv): CliEnv =>
  parseEnv(cliEnvSchema, Object.fromEntries(Object.entries(rawEnv).filter(([, v]) => v !== '')));

export function openCliContext(env: CliEnv, io: CliIO): CliContext {
  const prisma = createPrismaClient({ databaseUrl: env.DATABASE_URL, poolSize: 2 });
  // Warnings (Redis away) on stderr: stdout carries only results.
  const log = pino({ level: 'warn', base: { service: 'cic-cli' } }, pino.destination(2));
  const redis = env.REDIS_URL ? createRedis(env.REDIS_URL, log) : null;
  const bus = redis ? new TopicBus({ redis, prefix: env.REDIS_CHANNEL_PREFIX, log }) : SILENT;
  return {
    env, io, prisma, bus,
    operator: { kind: 'operator', name: 'cli' },
    requestId: `cli_${randomBytes(8).toString('hex')}`,
    async close() {
      await prisma.$disconnect();
      redis?.disconnect();
    },
  };
}

export const platformLimits = (ctx: CliContext) => platformRateLimitsOf(ctx.env);
